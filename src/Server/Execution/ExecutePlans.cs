using Microsoft.Extensions.Options;
using PythOn.Api.V1;
using PythOn.Server.Auth;
using PythOn.Server.Hosting;
using PythOn.Server.Packages;
using PythOn.Server.Secrets;

namespace PythOn.Server.Execution;

/// <summary>An ExecuteRequest made a validated run plan: the caller's secrets as env vars, their package stores.
/// One place for Execute, ExecuteStream and interactive runs.</summary>
public sealed class ExecutePlans(SecretStore secrets, RunPackages packages, IOptions<PythOnOptions> options)
{
    public async Task<RunPlan> CreateAsync(Caller caller, ExecuteRequest request, CancellationToken cancellationToken)
    {
        var plan = RunPlans.Create(options.Value.Limits, request.Language, request.Code, request.Stdin, request.Args, request.Env,
            request.HasTimeout ? request.Timeout : null, secrets.Reveal(caller.UserId));
        return plan with { Packages = await packages.ForRunAsync(caller.UserId, plan.Language, request.Packages, cancellationToken) };
    }
}
