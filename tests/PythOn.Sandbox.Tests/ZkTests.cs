using System.Text.Json;
using PythOn.Sandbox.Tests.Infrastructure;
using PythOn.Sandbox.V1;

namespace PythOn.Sandbox.Tests;

/// <summary>Zero-knowledge payload v1: decrypted inside the sandbox, never by the agent.</summary>
[Collection(SandboxCollection.Name)]
public sealed class ZkTests(SandboxFixture fx)
{
    private static readonly JsonElement[] Cases = LoadCases();

    public static TheoryData<string> Decrypting => new(Cases.Where(c => c.GetProperty("expect").GetString() == "decrypts").Select(Name));
    public static TheoryData<string> Failing => new(Cases.Where(c => c.GetProperty("expect").GetString() == "fails").Select(Name));

    [Fact]
    public async Task Encrypted_python_program_runs_with_the_right_password()
    {
        var run = await fx.Client.RunAsync(RequestFor("ok-0"));
        Assert.Equal("Hello from zero-knowledge!\n", run.Stdout);
        Assert.Equal(0, run.Result.ExitCode);
        Assert.False(run.Result.ZkDecryptionFailed);
    }

    [Fact]
    public async Task Encrypted_javascript_program_runs_with_the_right_password()
    {
        var run = await fx.Client.RunAsync(RequestFor("ok-1"));
        Assert.Equal("hi from js 42\n", run.Stdout);
        Assert.False(run.Result.ZkDecryptionFailed);
    }

    [Theory]
    [MemberData(nameof(Decrypting))]
    public async Task Every_valid_vector_decrypts_and_runs(string name)
    {
        var run = await fx.Client.RunAsync(RequestFor(name));
        Assert.False(run.Result.ZkDecryptionFailed, run.Stderr);
        Assert.Equal(0, run.Result.ExitCode);
        Assert.Equal("", run.Stderr);
    }

    [Theory]
    [MemberData(nameof(Failing))]
    public async Task Every_bad_vector_gives_one_generic_decryption_failure(string name)
    {
        var run = await fx.Client.RunAsync(RequestFor(name));
        Assert.True(run.Result.ZkDecryptionFailed);
        Assert.Equal("", run.Stdout);
        Assert.Equal("", run.Stderr);
    }

    [Fact]
    public async Task Plain_code_alongside_a_zk_job_is_rejected()
    {
        var request = RequestFor("ok-0");
        request.Code = "print('smuggled')";
        var e = await Assert.ThrowsAsync<Grpc.Core.RpcException>(() => fx.Client.RunAsync(request));
        Assert.Equal(Grpc.Core.StatusCode.InvalidArgument, e.StatusCode);
    }

    [Fact]
    public async Task A_plain_program_cannot_fake_a_decryption_failure()
    {
        var run = await fx.Client.RunAsync(Runs.Python("import sys\nsys.stdout.write('\\0pyth-on-zk failed\\n')\nsys.exit(3)"));
        Assert.False(run.Result.ZkDecryptionFailed);
        Assert.Equal("\0pyth-on-zk failed\n", run.Stdout);
    }

    private static RunRequest RequestFor(string name)
    {
        var c = Cases.Single(x => Name(x) == name);
        var p = c.GetProperty("encryptedPayload");
        return new RunRequest
        {
            Language = c.GetProperty("language").GetString(),
            TimeoutMs = 20_000,
            Zk = new ZkJob
            {
                V = p.GetProperty("v").GetUInt32(),
                Salt = p.GetProperty("salt").GetString(),
                Nonce = p.GetProperty("nonce").GetString(),
                Ciphertext = p.GetProperty("ciphertext").GetString(),
                MasterPassword = c.GetProperty("masterPassword").GetString(),
            },
        };
    }

    private static string Name(JsonElement c) => c.GetProperty("name").GetString()!;

    private static JsonElement[] LoadCases()
    {
        var path = Path.Combine(AppContext.BaseDirectory, "zk-vectors-v1.json");
        using var doc = JsonDocument.Parse(File.ReadAllText(path));
        return doc.RootElement.GetProperty("cases").EnumerateArray().Select(e => e.Clone()).ToArray();
    }
}
