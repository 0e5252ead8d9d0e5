using System.Net;
using System.Text.Json;
using Grpc.Core;
using PythOn.Api.V1;
using PythOn.Api.Zk;
using PythOn.Server.Tests.Infrastructure;

namespace PythOn.Server.Tests.EndToEnd;

/// <summary>
/// Zero-knowledge code end to end: the one "decryption failed" answer and the failure budget.
/// </summary>
[Collection(SandboxedServerCollection.Name)]
public sealed class ZkDecryptionFailureTests(SandboxedServerFixture fixture) : ZkEndToEnd(fixture)
{
    [Fact]
    public async Task A_wrong_password_is_the_one_documented_403_decryption_failed()
    {
        var user = await Users.RegisterAsync(E2e.Rest);
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
        var user = await Users.RegisterAsync(E2e.Rest);
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
        var user = await Users.RegisterAsync(E2e.Rest);
        var name = UniqueName("wrong-grpc");
        (await StoreAsync(name, ZkVectors.PayloadJson("ok-0"), user)).Expect(HttpStatusCode.OK);

        var error = await RpcAssert.FailsWith(StatusCode.PermissionDenied,
            E2e.Rpc.Zk.ExecuteCodeAsync(new ExecuteCodeRequest { Name = name, MasterPassword = "nope-nope-1" }, user.Key.Metadata));

        Assert.StartsWith("decryption failed", error.Status.Detail);
    }

    [Fact]
    public async Task After_five_failed_decryptions_of_a_program_further_attempts_get_429_even_with_the_right_password()
    {
        var user = await Users.RegisterAsync(E2e.Rest);
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
        var user = await Users.RegisterAsync(E2e.Rest);
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
        var user = await Users.RegisterAsync(E2e.Rest);
        var (guessed, other) = (UniqueName("guessed"), UniqueName("other"));
        (await StoreAsync(guessed, ZkVectors.PayloadJson("ok-0"), user)).Expect(HttpStatusCode.OK);
        (await StoreAsync(other, ZkVectors.PayloadJson("ok-0"), user)).Expect(HttpStatusCode.OK);
        for (var i = 0; i < 5; i++) await ExecuteAsync(guessed, $"guess-{i}", user);
        (await ExecuteAsync(guessed, DocumentedPassword, user)).Expect(HttpStatusCode.TooManyRequests);

        var response = await ExecuteAsync(other, DocumentedPassword, user);

        Assert.Equal("Hello from zero-knowledge!\n", response.Expect(HttpStatusCode.OK).Json.Str("output"));
    }
}
