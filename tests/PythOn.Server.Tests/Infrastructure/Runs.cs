using System.Net;
using Google.Protobuf;
using Grpc.Core;
using PythOn.Api.V1;

namespace PythOn.Server.Tests.Infrastructure;

/// <summary>Which face of the API a test goes through.</summary>
public enum Transport
{
    Rest,
    Grpc,
}

/// <summary>Execute calls over either transport, read back as the contract's message (REST JSON parsed strictly).</summary>
public static class Runs
{
    private static readonly JsonParser StrictParser = new(JsonParser.Settings.Default.WithIgnoreUnknownFields(false));

    /// <summary>The request as the REST body: proto3 JSON with the documented camelCase names.</summary>
    public static string Json(IMessage request) => JsonFormatter.Default.Format(request);

    public static T Parse<T>(string json) where T : IMessage<T>, new() => StrictParser.Parse<T>(json);

    /// <summary>Runs through Execute.Execute and expects success (REST 200).</summary>
    public static async Task<ExecuteResponse> ExecuteAsync(this ITestServer server, Transport transport, ExecuteRequest request, TestUser user)
    {
        if (transport == Transport.Grpc) return await server.Rpc.Execute.ExecuteAsync(request, user.Key.Metadata);
        var response = (await server.Rest.SendAsync(HttpMethod.Post, "/api/v1/execute", Json(request), user.Key)).Expect(HttpStatusCode.OK);
        return Parse<ExecuteResponse>(response.Body);
    }

    /// <summary>Runs through Execute.Execute and expects a failure: REST status with a google.rpc.Status body, or the gRPC status.</summary>
    public static async Task<string> ExecuteFailsAsync(this ITestServer server, Transport transport, ExecuteRequest request, TestUser user,
        HttpStatusCode httpStatus, StatusCode grpcStatus)
    {
        if (transport == Transport.Grpc)
            return (await RpcAssert.FailsWith(grpcStatus, async () => await server.Rpc.Execute.ExecuteAsync(request, user.Key.Metadata))).Status.Detail;
        var response = await server.Rest.SendAsync(HttpMethod.Post, "/api/v1/execute", Json(request), user.Key);
        return response.ExpectStatusBody(httpStatus, (int)grpcStatus).Str("message");
    }

    public static ExecuteRequest Python(string code) => new() { Language = "python", Code = code };

    public static ExecuteRequest JavaScript(string code) => new() { Language = "javascript", Code = code };
}
