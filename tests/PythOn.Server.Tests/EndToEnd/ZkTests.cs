using System.Net;
using System.Text.Json;
using Grpc.Core;
using PythOn.Api.V1;
using PythOn.Api.Zk;
using PythOn.Server.Tests.Infrastructure;

namespace PythOn.Server.Tests.EndToEnd;

/// <summary>The shared v1 test vectors (tests/PythOn.Server.Tests/ZeroKnowledge/zk-vectors-v1.json).</summary>
public static class ZkVectors
{
    private static readonly JsonElement Root = JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "ZeroKnowledge", "zk-vectors-v1.json"))).RootElement.Clone();

    public static JsonElement Case(string name) => Root.GetProperty("cases").EnumerateArray().Single(c => c.GetProperty("name").GetString() == name);

    /// <summary>The case's encryptedPayload as JSON text, exactly as in the file.</summary>
    public static string PayloadJson(string name) => Case(name).GetProperty("encryptedPayload").GetRawText();

    public static ZKPayload Payload(string name) => Runs.Parse<ZKPayload>(PayloadJson(name));

    public static string Password(string name) => Case(name).GetProperty("masterPassword").GetString()!;
}

/// <summary>
/// Zero-knowledge code end to end: the documented REST examples, client-side encryption over REST and gRPC, the
/// encrypt helper, the one "decryption failed" answer, the failure budget, payload validation, metadata, deletion and
/// isolation between users. Programs are decrypted by the real agent's sandboxes.
/// </summary>
[Collection(SandboxedServerCollection.Name)]
public sealed class ZkTests(SandboxedServerFixture e2e) : IAsyncLifetime
{
    private const string DocumentedPassword = "MyS3cur3P@ss!";
    private TestUser _user = null!;

    public async Task InitializeAsync() => _user = await e2e.SharedAsync("zk user", () => Users.RegisterAsync(e2e.Rest));

    public Task DisposeAsync() => Task.CompletedTask;

    private static string UniqueName(string hint) => $"{hint}-{Guid.NewGuid().ToString("N")[..8]}";

    private Task<RestResponse> StoreAsync(string name, string payloadJson, TestUser? user = null, string language = "python", string description = "d") =>
        e2e.Rest.SendAsync(HttpMethod.Put, $"/api/v1/zk/code/{name}",
            $$"""{"encryptedPayload":{{payloadJson}},"language":"{{language}}","description":{{JsonSerializer.Serialize(description)}}}""", (user ?? _user).Key);

    private Task<RestResponse> ExecuteAsync(string name, string password, TestUser? user = null) =>
        e2e.Rest.PostAsync($"/api/v1/zk/execute/{name}", new { masterPassword = password }, (user ?? _user).Key);

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

        var response = await e2e.Rest.SendAsync(HttpMethod.Post, $"/api/v1/zk/execute/{name}", """{"masterPassword":"MyS3cur3P@ss!"}""", _user.Key);

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
        var response = await e2e.Rest.PostAsync($"/api/v1/zk/execute/{name}",
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

        var stored = await e2e.Rpc.Zk.StoreCodeAsync(new StoreCodeRequest { Name = name, EncryptedPayload = payload, Language = "javascript" }, auth);
        var result = await e2e.Rpc.Zk.ExecuteCodeAsync(new ExecuteCodeRequest { Name = name, MasterPassword = password }, auth);

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

        var json = (await e2e.Rest.PostAsync("/api/v1/zk/encrypt", new { code, masterPassword = password }, _user.Key)).Expect(HttpStatusCode.OK).Json;

        Assert.Equal(["v", "salt", "nonce", "ciphertext"], json.PropertyNames());
        Assert.Equal(1, json.Prop("v").GetInt32());
        Assert.Equal(code, await ZkPayloadV1.DecryptAsync(Runs.Parse<ZKPayload>(json.GetRawText()), password));
    }

    [Fact]
    public async Task A_payload_from_the_encrypt_helper_runs_in_the_sandbox()
    {
        var name = UniqueName("helper");
        var payload = await e2e.Rpc.Zk.EncryptAsync(new EncryptRequest { Code = "print(6 * 7)", MasterPassword = "helper-Pass-4" }, _user.Key.Metadata);
        (await StoreAsync(name, Runs.Json(payload))).Expect(HttpStatusCode.OK);

        var json = (await ExecuteAsync(name, "helper-Pass-4")).Expect(HttpStatusCode.OK).Json;

        Assert.Equal("42\n", json.Str("output"));
    }

    [Fact]
    public async Task A_wrong_password_is_the_one_documented_403_decryption_failed()
    {
        var user = await Users.RegisterAsync(e2e.Rest);
        var name = UniqueName("wrong");
        (await StoreAsync(name, ZkVectors.PayloadJson("ok-0"), user)).Expect(HttpStatusCode.OK);

        var response = await ExecuteAsync(name, "MyS3cur3P@ss?", user);

        var json = response.ExpectStatusBody(HttpStatusCode.Forbidden, (int)StatusCode.PermissionDenied);
        Assert.StartsWith("decryption failed", json.Str("message"));
        Assert.DoesNotContain("output", json.PropertyNames());
    }

    [Fact]
    public async Task A_tampered_payload_gets_the_same_403_as_a_wrong_password()
    {
        var user = await Users.RegisterAsync(e2e.Rest);
        var tampered = ZkVectors.Payload("ok-0");
        var bytes = Convert.FromBase64String(tampered.Ciphertext);
        bytes[3] ^= 0x01; // one flipped bit: still a well-formed payload
        tampered.Ciphertext = Convert.ToBase64String(bytes);
        var (good, bad) = (UniqueName("good"), UniqueName("tampered"));
        (await StoreAsync(good, ZkVectors.PayloadJson("ok-0"), user)).Expect(HttpStatusCode.OK);
        (await StoreAsync(bad, Runs.Json(tampered), user)).Expect(HttpStatusCode.OK);

        var tamperedAnswer = await ExecuteAsync(bad, DocumentedPassword, user);
        var wrongPasswordAnswer = await ExecuteAsync(good, "not-the-password-1", user);

        Assert.Equal(wrongPasswordAnswer.Body, tamperedAnswer.Body);
        tamperedAnswer.ExpectStatusBody(HttpStatusCode.Forbidden, (int)StatusCode.PermissionDenied);
    }

    [Fact]
    public async Task A_wrong_password_over_gRPC_is_PERMISSION_DENIED()
    {
        var user = await Users.RegisterAsync(e2e.Rest);
        var name = UniqueName("wrong-grpc");
        (await StoreAsync(name, ZkVectors.PayloadJson("ok-0"), user)).Expect(HttpStatusCode.OK);

        var error = await RpcAssert.FailsWith(StatusCode.PermissionDenied,
            e2e.Rpc.Zk.ExecuteCodeAsync(new ExecuteCodeRequest { Name = name, MasterPassword = "nope-nope-1" }, user.Key.Metadata));

        Assert.StartsWith("decryption failed", error.Status.Detail);
    }

    [Fact]
    public async Task After_five_failed_decryptions_of_a_program_further_attempts_get_429_even_with_the_right_password()
    {
        var user = await Users.RegisterAsync(e2e.Rest);
        var name = UniqueName("guessed");
        (await StoreAsync(name, ZkVectors.PayloadJson("ok-0"), user)).Expect(HttpStatusCode.OK);
        for (var i = 0; i < 5; i++)
            (await ExecuteAsync(name, $"guess-{i}", user)).ExpectStatusBody(HttpStatusCode.Forbidden, (int)StatusCode.PermissionDenied);

        var response = await ExecuteAsync(name, DocumentedPassword, user);

        var json = response.ExpectStatusBody(HttpStatusCode.TooManyRequests, (int)StatusCode.ResourceExhausted);
        Assert.Contains("too many failed decryption attempts", json.Str("message"));
    }

    [Fact]
    public async Task Concurrent_wrong_passwords_cannot_spend_more_than_the_failure_budget()
    {
        var user = await Users.RegisterAsync(e2e.Rest);
        var name = UniqueName("raced");
        (await StoreAsync(name, ZkVectors.PayloadJson("ok-0"), user)).Expect(HttpStatusCode.OK);

        // All at once: each guess takes a sandbox and an Argon2 derivation, so they overlap.
        var answers = await Task.WhenAll(Enumerable.Range(0, 8).Select(i => ExecuteAsync(name, $"parallel-guess-{i}", user)));

        var statuses = answers.Select(a => a.Status).ToList();
        Assert.True(statuses.Count(s => s == HttpStatusCode.Forbidden) <= 5,
            $"more guesses were tried than the budget of 5 allows: {string.Join(", ", statuses.Select(s => (int)s))}");
        Assert.All(answers, a => Assert.True(a.Status is HttpStatusCode.Forbidden or HttpStatusCode.TooManyRequests, $"{(int)a.Status}: {a.Body}"));
    }

    [Fact]
    public async Task The_failure_budget_of_one_program_leaves_another_program_runnable()
    {
        var user = await Users.RegisterAsync(e2e.Rest);
        var (guessed, other) = (UniqueName("guessed"), UniqueName("other"));
        (await StoreAsync(guessed, ZkVectors.PayloadJson("ok-0"), user)).Expect(HttpStatusCode.OK);
        (await StoreAsync(other, ZkVectors.PayloadJson("ok-0"), user)).Expect(HttpStatusCode.OK);
        for (var i = 0; i < 5; i++) await ExecuteAsync(guessed, $"guess-{i}", user);
        (await ExecuteAsync(guessed, DocumentedPassword, user)).Expect(HttpStatusCode.TooManyRequests);

        var response = await ExecuteAsync(other, DocumentedPassword, user);

        Assert.Equal("Hello from zero-knowledge!\n", response.Expect(HttpStatusCode.OK).Json.Str("output"));
    }

    public static TheoryData<string, string, string> BadPayloads()
    {
        var salt = "wZPl9qd+KCzQjxaK2mBjvA==";
        var nonce = "Lwen+hIZbKdFuhyszQ1IV3epUwvyD8JF";
        var ciphertext = "S3zp8XQDuKVXE9GiMng+plnV9CtcQ5KOOfHc8uqjMMbNeA3ZygBkjrZac48hkVRuduXrtw==";
        string P(int v = 1, string? s = null, string? n = null, string? c = null) =>
            JsonSerializer.Serialize(new { v, salt = s ?? salt, nonce = n ?? nonce, ciphertext = c ?? ciphertext });
        var oversize = Convert.ToBase64String(new byte[256 * 1024 + 16 + 1]);
        return new()
        {
            { "version 2", P(v: 2), "v must be 1" },
            { "bad base64", P(s: "not base64!!"), "salt is not valid standard base64" },
            { "non-canonical base64 (stray bits)", P(s: "wZPl9qd+KCzQjxaK2mBjvB=="), "salt is not canonical base64" },
            { "base64url alphabet", P(n: nonce.Replace('+', '-')), "nonce is not valid standard base64" },
            { "unpadded base64", P(c: ciphertext.TrimEnd('=')), "ciphertext is not valid standard base64" },
            { "15-byte salt", P(s: Convert.ToBase64String(new byte[15])), "salt must be 16 bytes" },
            { "23-byte nonce", P(n: Convert.ToBase64String(new byte[23])), "nonce must be 24 bytes" },
            { "ciphertext shorter than the tag", P(c: Convert.ToBase64String(new byte[15])), "ciphertext must be at least 16 bytes" },
            { "oversize ciphertext", P(c: oversize), "ciphertext is 262161 bytes; the limit is 262160" },
        };
    }

    [Theory]
    [MemberData(nameof(BadPayloads))]
    public async Task A_malformed_payload_is_refused_with_400_naming_the_problem(string problem, string payloadJson, string expected)
    {
        var response = await StoreAsync(UniqueName("bad"), payloadJson);

        var json = response.ExpectStatusBody(HttpStatusCode.BadRequest, (int)StatusCode.InvalidArgument);
        Assert.True(json.Str("message").Contains(expected), $"{problem}: expected the message to contain '{expected}': {json.Str("message")}");
    }

    [Fact]
    public async Task A_refused_payload_is_not_stored()
    {
        var name = UniqueName("refused");

        (await StoreAsync(name, """{"v":2,"salt":"wZPl9qd+KCzQjxaK2mBjvA==","nonce":"Lwen+hIZbKdFuhyszQ1IV3epUwvyD8JF","ciphertext":"AAAAAAAAAAAAAAAAAAAAAA=="}"""))
            .Expect(HttpStatusCode.BadRequest);

        var list = (await e2e.Rest.GetAsync("/api/v1/zk/code", _user.Key)).Expect(HttpStatusCode.OK).Json;
        Assert.DoesNotContain(list.Items("code"), c => c.Str("name") == name);
    }

    [Fact]
    public async Task ListCode_shows_metadata_with_the_ciphertext_size_and_timestamps()
    {
        var user = await Users.RegisterAsync(e2e.Rest);
        var before = DateTimeOffset.UtcNow.AddSeconds(-1);
        (await StoreAsync("b-second", ZkVectors.PayloadJson("ok-1"), user, "javascript", "js one")).Expect(HttpStatusCode.OK);
        (await StoreAsync("a-first", ZkVectors.PayloadJson("ok-0"), user, "python", "py one")).Expect(HttpStatusCode.OK);
        var after = DateTimeOffset.UtcNow.AddSeconds(1);

        var list = (await e2e.Rest.GetAsync("/api/v1/zk/code", user.Key)).Expect(HttpStatusCode.OK).Json.Items("code");

        Assert.Equal(["a-first", "b-second"], list.Select(c => c.Str("name")));
        var first = list[0];
        Assert.Equal(["name", "language", "description", "size", "createdAt", "updatedAt"], first.PropertyNames());
        Assert.Equal("python", first.Str("language"));
        Assert.Equal("py one", first.Str("description"));
        Assert.Equal(Convert.FromBase64String(ZkVectors.Payload("ok-0").Ciphertext).Length.ToString(), first.Prop("size").ToString());
        Assert.Equal(Convert.FromBase64String(ZkVectors.Payload("ok-1").Ciphertext).Length.ToString(), list[1].Prop("size").ToString());
        var created = DateTimeOffset.Parse(first.Str("createdAt"));
        Assert.InRange(created, before, after);
        Assert.Equal(created, DateTimeOffset.Parse(first.Str("updatedAt")));
        Assert.DoesNotContain("ciphertext", list[0].ToString());
    }

    [Fact]
    public async Task Replacing_a_program_keeps_createdAt_and_moves_updatedAt()
    {
        var user = await Users.RegisterAsync(e2e.Rest);
        (await StoreAsync("prog", ZkVectors.PayloadJson("ok-0"), user)).Expect(HttpStatusCode.OK);
        var original = Assert.Single((await e2e.Rest.GetAsync("/api/v1/zk/code", user.Key)).Json.Items("code"));
        // Timestamps have millisecond resolution: wait (by polling the clock) until one has passed.
        var storedAt = DateTimeOffset.Parse(original.Str("updatedAt"));
        await Poll.UntilAsync(() => Task.FromResult(DateTimeOffset.UtcNow > storedAt.AddMilliseconds(5)), TimeSpan.FromSeconds(5), "the clock moves on");

        (await StoreAsync("prog", ZkVectors.PayloadJson("ok-1"), user, "javascript")).Expect(HttpStatusCode.OK);

        var replaced = Assert.Single((await e2e.Rest.GetAsync("/api/v1/zk/code", user.Key)).Json.Items("code"));
        Assert.Equal(original.Str("createdAt"), replaced.Str("createdAt"));
        Assert.True(DateTimeOffset.Parse(replaced.Str("updatedAt")) > storedAt);
        Assert.Equal("javascript", replaced.Str("language"));
    }

    [Fact]
    public async Task DeleteCode_removes_the_program_and_then_answers_404()
    {
        var name = UniqueName("deleted");
        (await StoreAsync(name, ZkVectors.PayloadJson("ok-0"))).Expect(HttpStatusCode.OK);

        (await e2e.Rest.DeleteAsync($"/api/v1/zk/code/{name}", _user.Key)).Expect(HttpStatusCode.OK);

        (await ExecuteAsync(name, DocumentedPassword)).ExpectStatusBody(HttpStatusCode.NotFound, (int)StatusCode.NotFound);
        (await e2e.Rest.DeleteAsync($"/api/v1/zk/code/{name}", _user.Key)).ExpectStatusBody(HttpStatusCode.NotFound, (int)StatusCode.NotFound);
        var list = (await e2e.Rest.GetAsync("/api/v1/zk/code", _user.Key)).Json;
        Assert.DoesNotContain(list.Items("code"), c => c.Str("name") == name);
    }

    [Fact]
    public async Task An_invalid_package_in_ExecuteCode_is_refused_with_400_naming_it()
    {
        var name = UniqueName("pkgs");
        (await StoreAsync(name, ZkVectors.PayloadJson("ok-0"))).Expect(HttpStatusCode.OK);

        var response = await e2e.Rest.SendAsync(HttpMethod.Post, $"/api/v1/zk/execute/{name}",
            """{"masterPassword":"MyS3cur3P@ss!","packages":["git+https://example.com/x.git"]}""", _user.Key);

        var json = response.ExpectStatusBody(HttpStatusCode.BadRequest, (int)StatusCode.InvalidArgument);
        Assert.Contains("git+https://example.com/x.git", json.Str("message"));
    }

    [Fact]
    public async Task Another_user_cannot_list_run_or_delete_a_users_program()
    {
        var owner = await Users.RegisterAsync(e2e.Rest);
        var other = await Users.RegisterAsync(e2e.Rest);
        var name = UniqueName("private");
        (await StoreAsync(name, ZkVectors.PayloadJson("ok-0"), owner)).Expect(HttpStatusCode.OK);

        var list = (await e2e.Rest.GetAsync("/api/v1/zk/code", other.Key)).Expect(HttpStatusCode.OK).Json;
        Assert.Empty(list.Items("code"));
        (await ExecuteAsync(name, DocumentedPassword, other)).ExpectStatusBody(HttpStatusCode.NotFound, (int)StatusCode.NotFound);
        (await e2e.Rest.DeleteAsync($"/api/v1/zk/code/{name}", other.Key)).ExpectStatusBody(HttpStatusCode.NotFound, (int)StatusCode.NotFound);
        await RpcAssert.FailsWith(StatusCode.NotFound,
            e2e.Rpc.Zk.ExecuteCodeAsync(new ExecuteCodeRequest { Name = name, MasterPassword = DocumentedPassword }, other.Key.Metadata));

        var stillThere = (await ExecuteAsync(name, DocumentedPassword, owner)).Expect(HttpStatusCode.OK).Json;
        Assert.Equal("Hello from zero-knowledge!\n", stillThere.Str("output"));
    }

    [Fact]
    public async Task A_ZK_run_is_audited_without_the_password()
    {
        var user = await Users.RegisterAsync(e2e.Rest);
        var name = UniqueName("audited");
        (await StoreAsync(name, ZkVectors.PayloadJson("ok-0"), user)).Expect(HttpStatusCode.OK);
        (await ExecuteAsync(name, DocumentedPassword, user)).Expect(HttpStatusCode.OK);
        (await ExecuteAsync(name, "wrong-password-5", user)).Expect(HttpStatusCode.Forbidden);

        var audit = (await e2e.Rest.GetAsync("/api/v1/audit?pageSize=200", user.Key)).Expect(HttpStatusCode.OK);

        var runs = audit.Json.Items("entries").Where(e => e.Str("action") == "zk.execute").ToList();
        Assert.Equal(["denied", "success"], runs.Select(r => r.Str("outcome")));
        Assert.Equal("python", runs[1].Prop("details").Str("language"));
        Assert.Equal("0", runs[1].Prop("details").Str("exit_code"));
        Assert.DoesNotContain(DocumentedPassword, audit.Body);
        Assert.DoesNotContain("wrong-password-5", audit.Body);
        Assert.DoesNotContain("Hello from zero-knowledge", audit.Body);
    }
}
