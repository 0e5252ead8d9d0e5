using Grpc.Core;
using PythOn.Api.V1;
using PythOn.Api.Zk;
using PythOn.Client.Tests.Infrastructure;

namespace PythOn.Client.Tests;

/// <summary>The library against the real server: local ZK encryption, token refresh, retry policy scope.</summary>
[Collection(ServerCollection.Name)]
public sealed class LibraryTests(PythOnServer server)
{
    [Fact]
    public async Task Local_encryption_decrypts_with_ZkPayloadV1_and_not_with_another_password()
    {
        const string code = "print('héllo, wörld')\n";
        var payload = await PythOnClient.EncryptLocallyAsync(code, "correct horse");

        var parts = ZkPayloadV1.Parse(payload);
        Assert.Equal(System.Text.Encoding.UTF8.GetByteCount(code) + ZkPayloadV1.TagBytes, parts.Ciphertext.Length);
        Assert.Equal(code, await ZkPayloadV1.DecryptAsync(payload, "correct horse"));
        Assert.Null(await ZkPayloadV1.DecryptAsync(payload, "wrong horse"));
        Assert.DoesNotContain("print", System.Text.Encoding.UTF8.GetString(parts.Ciphertext));
    }

    [Fact]
    public async Task Stored_encrypted_code_round_trips_through_StoreCode_and_ListCode()
    {
        using var client = server.Client();
        await client.RegisterAsync($"u{Guid.NewGuid():N}@example.com", "secureP@ss123");

        var payload = await PythOnClient.EncryptLocallyAsync("print(42)\n", "pw-1");
        var stored = await client.StoreCodeAsync("answer", payload, "python", "the answer");
        Assert.True(stored.Stored && stored.ZeroKnowledge);
        var viaHelper = await client.StoreEncryptedCodeAsync("greeting", "print('hi there')\n", "pw-2", "python");
        Assert.Equal("greeting", viaHelper.Name);

        var list = await client.ListCodeAsync();
        Assert.Equal(["answer", "greeting"], list.Select(c => c.Name).ToArray());
        Assert.Equal(Convert.FromBase64String(payload.Ciphertext).Length, list[0].Size);
        Assert.Equal("the answer", list[0].Description);
        Assert.Equal(System.Text.Encoding.UTF8.GetByteCount("print('hi there')\n") + ZkPayloadV1.TagBytes, list[1].Size);

        await client.DeleteCodeAsync("answer");
        Assert.Equal(["greeting"], (await client.ListCodeAsync()).Select(c => c.Name).ToArray());
        var missing = await Assert.ThrowsAsync<RpcException>(() => client.DeleteCodeAsync("answer"));
        Assert.Equal(StatusCode.NotFound, missing.StatusCode);
    }

    [Fact]
    public async Task A_rejected_token_is_refreshed_once_and_the_new_pair_is_reported()
    {
        var email = $"u{Guid.NewGuid():N}@example.com";
        using (var registrar = server.Client()) await registrar.RegisterAsync(email, "secureP@ss123");
        AuthResponse session;
        using (var signer = server.Client()) session = await signer.LoginAsync(email, "secureP@ss123");

        using var client = new PythOnClient(new PythOnClientOptions
        {
            Address = new Uri(server.GrpcAddress),
            Token = "not-a-jwt",
            RefreshToken = session.RefreshToken,
        });
        var changes = new List<PythOnCredentials>();
        client.CredentialsChanged += (_, e) => changes.Add(e.Credentials);

        var user = await client.VerifyTokenAsync();

        Assert.Equal(email, user.Email);
        Assert.Equal("jwt", user.AuthMethod);
        var changed = Assert.Single(changes);
        Assert.NotEqual(session.RefreshToken, changed.RefreshToken);
        Assert.Equal(changed, client.Credentials);
        // The old refresh token was consumed by the client (rotation): presenting it again is refused.
        using var stale = server.Client();
        var reuse = await Assert.ThrowsAsync<RpcException>(() => stale.RefreshTokenAsync(session.RefreshToken));
        Assert.Equal(StatusCode.Unauthenticated, reuse.StatusCode);
    }

    [Fact]
    public async Task Library_calls_cover_secrets_packages_audit_and_system()
    {
        using var client = server.Client();
        var registered = await client.RegisterAsync($"u{Guid.NewGuid():N}@example.com", "secureP@ss123");
        Assert.Equal(registered.ApiKey, client.Credentials.ApiKey);

        await client.PutSecretAsync("TOKEN", "value");
        Assert.Equal(["TOKEN"], (await client.ListSecretsAsync()).Select(s => s.Name).ToArray());
        var pkg = await client.AddPackageAsync("javascript", "lodash@^4");
        Assert.Equal("lodash", pkg.Name);
        Assert.Equal("^4", pkg.Version);
        var set = await client.SetPackagesAsync("python", ["numpy>=1.26", "requests"]);
        Assert.Equal(["numpy", "requests"], set.Select(p => p.Name).ToArray());
        Assert.Equal(["javascript/lodash", "python/numpy", "python/requests"],
            (await client.ListPackagesAsync()).Select(p => $"{p.Language}/{p.Name}").ToArray());
        Assert.Equal(["numpy", "requests"], (await client.ListPackagesAsync("python")).Select(p => p.Name).ToArray());
        await client.RemovePackageAsync("lodash", "javascript");
        var gone = await Assert.ThrowsAsync<RpcException>(() => client.RemovePackageAsync("lodash", "javascript"));
        Assert.Equal(StatusCode.NotFound, gone.StatusCode);
        var audit = await client.GetAuditLogAsync(pageSize: 2);
        Assert.Equal(2, audit.Entries.Count);
        Assert.Equal("package.remove", audit.Entries[0].Action);
        Assert.NotEmpty(audit.NextPageToken);
        Assert.Equal("ok", (await client.GetHealthAsync()).Storage.Ok ? "ok" : "storage down");
        Assert.NotEmpty((await client.GetInfoAsync()).Version);

        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();
        var e = await Assert.ThrowsAsync<RpcException>(() => client.ListSecretsAsync(cancelled.Token));
        Assert.Equal(StatusCode.Cancelled, e.StatusCode);
    }

    [Fact]
    public void Runs_refresh_and_register_are_never_retried_reads_and_idempotent_writes_are()
    {
        var retried = PythOnClient.RetriedMethods;
        foreach (var unsafeToRepeat in new[]
                 {
                     "pythonapi.v1.Execute/Execute", "pythonapi.v1.Execute/ExecuteStream", "pythonapi.v1.ZK/ExecuteCode",
                     "pythonapi.v1.Generate/Generate", "pythonapi.v1.Auth/RefreshToken", "pythonapi.v1.Auth/Register",
                 })
            Assert.DoesNotContain(unsafeToRepeat, retried);
        Assert.Contains("pythonapi.v1.Secrets/ListSecrets", retried);
        Assert.Contains("pythonapi.v1.ZK/StoreCode", retried);
        // Every listed name is a real method of the contract (a typo would silently disable its retries).
        var methods = new[] { Auth.Descriptor, Secrets.Descriptor, Packages.Descriptor, Audit.Descriptor, PythOn.Api.V1.System.Descriptor, ZK.Descriptor }
            .SelectMany(s => s.Methods.Select(m => $"{s.FullName}/{m.Name}")).ToHashSet();
        Assert.All(retried, name => Assert.Contains(name, methods));
    }

    [Fact]
    public async Task Unavailable_is_retried_for_safe_calls_only()
    {
        // Nothing listens on this port: every attempt fails with UNAVAILABLE before reaching a server.
        var counter = new CountingHandler();
        using var client = new PythOnClient(new PythOnClientOptions
        {
            Address = new Uri($"http://127.0.0.1:{LoopbackPort.Free()}"),
            ApiKey = "pyapi_test",
            MaxAttempts = 3,
            InitialBackoff = TimeSpan.FromMilliseconds(10),
            MaxBackoff = TimeSpan.FromMilliseconds(50),
            HttpHandler = counter,
        });

        var info = await Assert.ThrowsAsync<RpcException>(() => client.GetInfoAsync());
        Assert.Equal(StatusCode.Unavailable, info.StatusCode);
        Assert.Equal(3, counter.Attempts);

        counter.Attempts = 0;
        var secrets = await Assert.ThrowsAsync<RpcException>(() => client.PutSecretAsync("A", "b"));
        Assert.Equal(StatusCode.Unavailable, secrets.StatusCode);
        Assert.Equal(3, counter.Attempts);

        counter.Attempts = 0;
        var run = await Assert.ThrowsAsync<RpcException>(() => client.ExecuteAsync("print(1)", "python"));
        Assert.Equal(StatusCode.Unavailable, run.StatusCode);
        Assert.Equal(1, counter.Attempts);

        counter.Attempts = 0;
        await Assert.ThrowsAsync<RpcException>(async () =>
        {
            await foreach (var _ in client.ExecuteStreamAsync(new ExecuteRequest { Code = "print(1)", Language = "python" })) { }
        });
        Assert.Equal(1, counter.Attempts);
    }

    // HttpClientHandler rather than SocketsHttpHandler: gRPC then sends every attempt through this handler instead of
    // failing it earlier in its own connection management, so the count is the number of attempts.
    private sealed class CountingHandler() : DelegatingHandler(new HttpClientHandler())
    {
        private int _attempts;

        public int Attempts
        {
            get => Volatile.Read(ref _attempts);
            set => Volatile.Write(ref _attempts, value);
        }

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _attempts);
            return base.SendAsync(request, cancellationToken);
        }
    }
}
