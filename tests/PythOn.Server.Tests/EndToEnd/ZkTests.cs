using System.Net;
using System.Text.Json;
using Grpc.Core;
using PythOn.Api.V1;
using PythOn.Api.Zk;
using PythOn.Server.Tests.Infrastructure;

namespace PythOn.Server.Tests.EndToEnd;

/// <summary>
/// Zero-knowledge code end to end: the documented REST examples, client-side encryption over REST and gRPC, and the
/// encrypt helper.
/// </summary>
[Collection(SandboxedServerCollection.Name)]
public sealed class ZkTests(SandboxedServerFixture fixture) : ZkEndToEnd(fixture)
{
    [Fact]
    public async Task The_documented_store_example_answers_exactly_the_documented_body()
    {
        var name = UniqueName("scraper");

        var response = await StoreAsync(name, ZkVectors.PayloadJson("ok-0"), description: "My encrypted scraper");

        var json = response.Expect(HttpStatusCode.OK).Json;
        Assert.Equal(["name", "language", "description", "stored", "zeroKnowledge"], json.PropertyNames());
        Assert.Equal(name, json.Str("name"));
        Assert.Equal("python", json.Str("language"));
        Assert.Equal("My encrypted scraper", json.Str("description"));
        Assert.True(json.Prop("stored").GetBoolean());
        Assert.True(json.Prop("zeroKnowledge").GetBoolean());
    }

    [Fact]
    public async Task The_documented_execute_example_answers_the_documented_fields_and_values()
    {
        var name = UniqueName("scraper");
        (await StoreAsync(name, ZkVectors.PayloadJson("ok-0"), description: "My encrypted scraper")).Expect(HttpStatusCode.OK);

        var response = await E2e.Rest.SendAsync(HttpMethod.Post, $"/api/v1/zk/execute/{name}", """{"masterPassword":"MyS3cur3P@ss!"}""", _user.Key);

        var json = response.Expect(HttpStatusCode.OK).Json;
        Assert.Equal("Hello from zero-knowledge!\n", json.Str("output"));
        Assert.Equal("", json.Str("error"));
        Assert.Equal(0, json.Prop("exitCode").GetInt32());
        Assert.Equal("python", json.Str("language"));
        Assert.True(json.Prop("zeroKnowledge").GetBoolean());
        // Besides the documented fields, only ExecuteResponse's own run facts.
        Assert.Equal(["durationMs", "error", "exitCode", "language", "output", "outputTruncated", "timedOut", "zeroKnowledge"],
            json.PropertyNames().Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task A_JavaScript_program_from_the_vectors_runs_decrypted()
    {
        var name = UniqueName("js");
        (await StoreAsync(name, ZkVectors.PayloadJson("ok-1"), language: "javascript")).Expect(HttpStatusCode.OK);

        var json = (await ExecuteAsync(name, ZkVectors.Password("ok-1"))).Expect(HttpStatusCode.OK).Json;

        Assert.Equal("hi from js 42\n", json.Str("output"));
        Assert.Equal("javascript", json.Str("language"));
        Assert.True(json.Prop("zeroKnowledge").GetBoolean());
    }

    [Fact]
    public async Task Code_encrypted_on_the_client_is_stored_and_run_over_REST()
    {
        var name = UniqueName("client-rest");
        const string password = "client-side Pässword 1";
        var payload = await ZkPayloadV1.EncryptAsync("import sys\nprint('client-side', sys.argv[1:], sys.stdin.read())", password);

        (await StoreAsync(name, Runs.Json(payload))).Expect(HttpStatusCode.OK);
        var response = await E2e.Rest.PostAsync($"/api/v1/zk/execute/{name}",
            new { masterPassword = password, args = new[] { "a1" }, stdin = "in" }, _user.Key);

        Assert.Equal("client-side ['a1'] in\n", response.Expect(HttpStatusCode.OK).Json.Str("output"));
    }

    [Fact]
    public async Task Code_encrypted_on_the_client_is_stored_and_run_over_gRPC()
    {
        var name = UniqueName("client-grpc");
        const string password = "grpc-Secret-2";
        var payload = await ZkPayloadV1.EncryptAsync("console.log('via grpc', process.argv.length)", password);
        var auth = _user.Key.Metadata;

        var stored = await E2e.Rpc.Zk.StoreCodeAsync(new StoreCodeRequest { Name = name, EncryptedPayload = payload, Language = "javascript" }, auth);
        var result = await E2e.Rpc.Zk.ExecuteCodeAsync(new ExecuteCodeRequest { Name = name, MasterPassword = password }, auth);

        Assert.True(stored.Stored && stored.ZeroKnowledge);
        Assert.Equal("via grpc 2\n", result.Output);
        Assert.Equal(0, result.ExitCode);
        Assert.True(result.HasZeroKnowledge && result.ZeroKnowledge);
    }

    [Fact]
    public async Task The_encrypt_helper_returns_a_v1_payload_that_decrypts_to_the_code()
    {
        const string code = "print('from the helper')\n";
        const string password = "helper-Pass-3";

        var json = (await E2e.Rest.PostAsync("/api/v1/zk/encrypt", new { code, masterPassword = password }, _user.Key)).Expect(HttpStatusCode.OK).Json;

        Assert.Equal(["v", "salt", "nonce", "ciphertext"], json.PropertyNames());
        Assert.Equal(1, json.Prop("v").GetInt32());
        Assert.Equal(code, await ZkPayloadV1.DecryptAsync(Runs.Parse<ZKPayload>(json.GetRawText()), password));
    }

    [Fact]
    public async Task A_payload_from_the_encrypt_helper_runs_in_the_sandbox()
    {
        var name = UniqueName("helper");
        var payload = await E2e.Rpc.Zk.EncryptAsync(new EncryptRequest { Code = "print(6 * 7)", MasterPassword = "helper-Pass-4" }, _user.Key.Metadata);
        (await StoreAsync(name, Runs.Json(payload))).Expect(HttpStatusCode.OK);

        var json = (await ExecuteAsync(name, "helper-Pass-4")).Expect(HttpStatusCode.OK).Json;

        Assert.Equal("42\n", json.Str("output"));
    }
}
