using Grpc.Core;
using Microsoft.AspNetCore.Authorization;
using PythOn.Api.V1;
using PythOn.Server.Errors;

namespace PythOn.Server.Generation;

[Authorize]
public sealed class GenerateService : PythOn.Api.V1.Generate.GenerateBase
{
    public override Task<GenerateResponse> Generate(GenerateRequest request, ServerCallContext context) =>
        throw Problems.Unavailable("code generation is not available yet on this server: no model integration has been enabled.");
}
