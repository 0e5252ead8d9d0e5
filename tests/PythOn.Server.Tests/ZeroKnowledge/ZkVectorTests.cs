using System.Text.Json;
using PythOn.Api.V1;
using PythOn.Api.Zk;

namespace PythOn.Server.Tests.ZeroKnowledge;

/// <summary>The shared v1 vectors (made with argon2-cffi and libsodium) through our C# implementation.</summary>
[Trait(Tier.Name, Tier.Fast)]
public class ZkVectorTests
{
    private static readonly JsonElement[] Cases = LoadCases();

    public static TheoryData<string> DecryptingCases() => [.. Cases.Where(c => c.GetProperty("expect").GetString() == "decrypts").Select(c => c.GetProperty("name").GetString()!)];

    public static TheoryData<string> FailingCases() => [.. Cases.Where(c => c.GetProperty("expect").GetString() == "fails").Select(c => c.GetProperty("name").GetString()!)];

    [Theory]
    [MemberData(nameof(DecryptingCases))]
    public async Task Key_derivation_matches_the_vector(string name)
    {
        var vector = Case(name);
        var parts = ZkPayloadV1.Parse(Payload(vector));
        var key = await ZkPayloadV1.DeriveKeyAsync(vector.GetProperty("masterPassword").GetString()!, parts.Salt);
        Assert.Equal(vector.GetProperty("keyHex").GetString(), Convert.ToHexStringLower(key));
    }

    [Theory]
    [MemberData(nameof(DecryptingCases))]
    public async Task Payload_decrypts_to_the_vector_plaintext(string name)
    {
        var vector = Case(name);
        var plaintext = await ZkPayloadV1.DecryptAsync(Payload(vector), vector.GetProperty("masterPassword").GetString()!);
        Assert.Equal(vector.GetProperty("plaintext").GetString(), plaintext);
    }

    [Theory]
    [MemberData(nameof(FailingCases))]
    public async Task Bad_payload_is_refused_or_does_not_decrypt(string name)
    {
        var vector = Case(name);
        var payload = Payload(vector);
        string? plaintext;
        try
        {
            plaintext = await ZkPayloadV1.DecryptAsync(payload, vector.GetProperty("masterPassword").GetString()!);
        }
        catch (ZkFormatException)
        {
            return; // refused by shape: version, base64 or lengths
        }
        Assert.Null(plaintext);
    }

    [Fact]
    public async Task Encrypted_payload_round_trips_and_has_v1_shape()
    {
        var payload = await ZkPayloadV1.EncryptAsync("print('round trip')\n", "pässwörd");
        var parts = ZkPayloadV1.Parse(payload);
        Assert.Equal(1, payload.V);
        Assert.Equal(16, parts.Salt.Length);
        Assert.Equal(24, parts.Nonce.Length);
        Assert.Equal("print('round trip')\n".Length + 16, parts.Ciphertext.Length);
        // NFC and NFD spellings of the same password derive the same key.
        Assert.Equal("print('round trip')\n", await ZkPayloadV1.DecryptAsync(payload, "pa\u0308sswo\u0308rd"));
    }

    [Theory]
    [InlineData(2, "AAAAAAAAAAAAAAAAAAAAAA==", "must be 1")]
    [InlineData(1, "AAAAAAAAAAAAAAAAAAAAAA", "base64")]
    [InlineData(1, "AAAAAAAAAAAAAAAAAAAAAB==", "canonical")]
    [InlineData(1, "AAAAAAAAAAA=", "16 bytes")]
    public void Malformed_payload_is_refused_with_a_message_that_names_the_problem(int version, string salt, string expected)
    {
        var payload = new ZKPayload { V = version, Salt = salt, Nonce = Convert.ToBase64String(new byte[24]), Ciphertext = Convert.ToBase64String(new byte[20]) };
        var error = Assert.Throws<ZkFormatException>(() => ZkPayloadV1.Parse(payload));
        Assert.Contains(expected, error.Message);
    }

    private static JsonElement Case(string name) => Cases.Single(c => c.GetProperty("name").GetString() == name);

    private static ZKPayload Payload(JsonElement vector)
    {
        var p = vector.GetProperty("encryptedPayload");
        return new ZKPayload
        {
            V = p.GetProperty("v").GetInt32(),
            Salt = p.GetProperty("salt").GetString(),
            Nonce = p.GetProperty("nonce").GetString(),
            Ciphertext = p.GetProperty("ciphertext").GetString(),
        };
    }

    private static JsonElement[] LoadCases()
    {
        var path = Path.Combine(AppContext.BaseDirectory, "ZeroKnowledge", "zk-vectors-v1.json");
        using var document = JsonDocument.Parse(File.ReadAllText(path));
        return document.RootElement.GetProperty("cases").EnumerateArray().Select(e => e.Clone()).ToArray();
    }
}
