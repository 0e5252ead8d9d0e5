using System.Net;
using System.Text.Json;
using Grpc.Core;
using PythOn.Api.V1;
using PythOn.Api.Zk;
using PythOn.Server.Tests.Infrastructure;

namespace PythOn.Server.Tests.EndToEnd;

/// <summary>
/// Zero-knowledge code end to end: payload validation, metadata, replacement, deletion, isolation between users, audit.
/// </summary>
[Collection(SandboxedServerCollection.Name)]
public sealed class ZkCodeManagementTests(SandboxedServerFixture fixture) : ZkEndToEnd(fixture)
{
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

        var list = (await E2e.Rest.GetAsync("/api/v1/zk/code", _user.Key)).Expect(HttpStatusCode.OK).Json;
        Assert.DoesNotContain(list.Items("code"), c => c.Str("name") == name);
    }

    [Fact]
    public async Task ListCode_shows_metadata_with_the_ciphertext_size_and_timestamps()
    {
        var user = await Users.RegisterAsync(E2e.Rest);
        var before = DateTimeOffset.UtcNow.AddSeconds(-1);
        (await StoreAsync("b-second", ZkVectors.PayloadJson("ok-1"), user, "javascript", "js one")).Expect(HttpStatusCode.OK);
        (await StoreAsync("a-first", ZkVectors.PayloadJson("ok-0"), user, "python", "py one")).Expect(HttpStatusCode.OK);
        var after = DateTimeOffset.UtcNow.AddSeconds(1);

        var list = (await E2e.Rest.GetAsync("/api/v1/zk/code", user.Key)).Expect(HttpStatusCode.OK).Json.Items("code");

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
        var user = await Users.RegisterAsync(E2e.Rest);
        (await StoreAsync("prog", ZkVectors.PayloadJson("ok-0"), user)).Expect(HttpStatusCode.OK);
        var original = Assert.Single((await E2e.Rest.GetAsync("/api/v1/zk/code", user.Key)).Json.Items("code"));
        // Timestamps have millisecond resolution: wait (by polling the clock) until one has passed.
        var storedAt = DateTimeOffset.Parse(original.Str("updatedAt"));
        await Poll.UntilAsync(() => Task.FromResult(DateTimeOffset.UtcNow > storedAt.AddMilliseconds(5)), TimeSpan.FromSeconds(5), "the clock moves on");

        (await StoreAsync("prog", ZkVectors.PayloadJson("ok-1"), user, "javascript")).Expect(HttpStatusCode.OK);

        var replaced = Assert.Single((await E2e.Rest.GetAsync("/api/v1/zk/code", user.Key)).Json.Items("code"));
        Assert.Equal(original.Str("createdAt"), replaced.Str("createdAt"));
        Assert.True(DateTimeOffset.Parse(replaced.Str("updatedAt")) > storedAt);
        Assert.Equal("javascript", replaced.Str("language"));
    }

    [Fact]
    public async Task DeleteCode_removes_the_program_and_then_answers_404()
    {
        var name = UniqueName("deleted");
        (await StoreAsync(name, ZkVectors.PayloadJson("ok-0"))).Expect(HttpStatusCode.OK);

        (await E2e.Rest.DeleteAsync($"/api/v1/zk/code/{name}", _user.Key)).Expect(HttpStatusCode.OK);

        (await ExecuteAsync(name, DocumentedPassword)).ExpectStatusBody(HttpStatusCode.NotFound, (int)StatusCode.NotFound);
        (await E2e.Rest.DeleteAsync($"/api/v1/zk/code/{name}", _user.Key)).ExpectStatusBody(HttpStatusCode.NotFound, (int)StatusCode.NotFound);
        var list = (await E2e.Rest.GetAsync("/api/v1/zk/code", _user.Key)).Json;
        Assert.DoesNotContain(list.Items("code"), c => c.Str("name") == name);
    }

    [Fact]
    public async Task An_invalid_package_in_ExecuteCode_is_refused_with_400_naming_it()
    {
        var name = UniqueName("pkgs");
        (await StoreAsync(name, ZkVectors.PayloadJson("ok-0"))).Expect(HttpStatusCode.OK);

        var response = await E2e.Rest.SendAsync(HttpMethod.Post, $"/api/v1/zk/execute/{name}",
            """{"masterPassword":"MyS3cur3P@ss!","packages":["git+https://example.com/x.git"]}""", _user.Key);

        var json = response.ExpectStatusBody(HttpStatusCode.BadRequest, (int)StatusCode.InvalidArgument);
        Assert.Contains("git+https://example.com/x.git", json.Str("message"));
    }

    [Fact]
    public async Task Another_user_cannot_list_run_or_delete_a_users_program()
    {
        var owner = await Users.RegisterAsync(E2e.Rest);
        var other = await Users.RegisterAsync(E2e.Rest);
        var name = UniqueName("private");
        (await StoreAsync(name, ZkVectors.PayloadJson("ok-0"), owner)).Expect(HttpStatusCode.OK);

        var list = (await E2e.Rest.GetAsync("/api/v1/zk/code", other.Key)).Expect(HttpStatusCode.OK).Json;
        Assert.Empty(list.Items("code"));
        (await ExecuteAsync(name, DocumentedPassword, other)).ExpectStatusBody(HttpStatusCode.NotFound, (int)StatusCode.NotFound);
        (await E2e.Rest.DeleteAsync($"/api/v1/zk/code/{name}", other.Key)).ExpectStatusBody(HttpStatusCode.NotFound, (int)StatusCode.NotFound);
        await RpcAssert.FailsWith(StatusCode.NotFound,
            E2e.Rpc.Zk.ExecuteCodeAsync(new ExecuteCodeRequest { Name = name, MasterPassword = DocumentedPassword }, other.Key.Metadata));

        var stillThere = (await ExecuteAsync(name, DocumentedPassword, owner)).Expect(HttpStatusCode.OK).Json;
        Assert.Equal("Hello from zero-knowledge!\n", stillThere.Str("output"));
    }

    [Fact]
    public async Task A_ZK_run_is_audited_without_the_password()
    {
        var user = await Users.RegisterAsync(E2e.Rest);
        var name = UniqueName("audited");
        (await StoreAsync(name, ZkVectors.PayloadJson("ok-0"), user)).Expect(HttpStatusCode.OK);
        (await ExecuteAsync(name, DocumentedPassword, user)).Expect(HttpStatusCode.OK);
        (await ExecuteAsync(name, "wrong-password-5", user)).Expect(HttpStatusCode.Forbidden);

        var audit = (await E2e.Rest.GetAsync("/api/v1/audit?pageSize=200", user.Key)).Expect(HttpStatusCode.OK);

        var runs = audit.Json.Items("entries").Where(e => e.Str("action") == "zk.execute").ToList();
        Assert.Equal(["denied", "success"], runs.Select(r => r.Str("outcome")));
        Assert.Equal("python", runs[1].Prop("details").Str("language"));
        Assert.Equal("0", runs[1].Prop("details").Str("exit_code"));
        Assert.DoesNotContain(DocumentedPassword, audit.Body);
        Assert.DoesNotContain("wrong-password-5", audit.Body);
        Assert.DoesNotContain("Hello from zero-knowledge", audit.Body);
    }
}
