using Grpc.Core;
using Grpc.Net.Client;

namespace PythOn.Server.Tests.Infrastructure;

/// <summary>Typed clients of every service on one channel.</summary>
public sealed class Rpc(GrpcChannel channel)
{
    public global::PythOn.Api.V1.Auth.AuthClient Auth { get; } = new(channel);
    public global::PythOn.Api.V1.Secrets.SecretsClient Secrets { get; } = new(channel);
    public global::PythOn.Api.V1.Packages.PackagesClient Packages { get; } = new(channel);
    public global::PythOn.Api.V1.Audit.AuditClient Audit { get; } = new(channel);
    public global::PythOn.Api.V1.System.SystemClient System { get; } = new(channel);
    public global::PythOn.Api.V1.Execute.ExecuteClient Execute { get; } = new(channel);
    public global::PythOn.Api.V1.Generate.GenerateClient Generate { get; } = new(channel);
    public global::PythOn.Api.V1.ZK.ZKClient Zk { get; } = new(channel);
    public global::Grpc.Health.V1.Health.HealthClient Health { get; } = new(channel);
    public global::Grpc.Reflection.V1Alpha.ServerReflection.ServerReflectionClient Reflection { get; } = new(channel);
}

/// <summary>Assertions on gRPC failures.</summary>
public static class RpcAssert
{
    /// <summary>Awaits a call that must fail with <paramref name="expected"/>; returns the exception for more checks.</summary>
    public static async Task<RpcException> FailsWith(StatusCode expected, Func<Task> call)
    {
        var error = await Assert.ThrowsAsync<RpcException>(call);
        Assert.True(error.StatusCode == expected,
            $"expected gRPC status {expected}, got {error.StatusCode}: {error.Status.Detail}");
        return error;
    }

    public static Task<RpcException> FailsWith<T>(StatusCode expected, AsyncUnaryCall<T> call) =>
        FailsWith(expected, async () => await call);
}
