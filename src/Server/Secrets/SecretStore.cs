using System.Text;
using System.Text.RegularExpressions;
using LiteDB;
using Microsoft.Extensions.Options;
using NSec.Cryptography;
using PythOn.Server.Errors;
using PythOn.Server.Hosting;
using PythOn.Server.Storage;

namespace PythOn.Server.Secrets;

/// <summary>
/// Per-user secrets, encrypted at rest with XChaCha20-Poly1305 under a server key. The associated data binds
/// each ciphertext to its user and name, so a ciphertext moved to another row does not decrypt.
/// </summary>
public sealed partial class SecretStore : IDisposable
{
    public const int MaxNameLength = 64;
    private static readonly AeadAlgorithm Aead = AeadAlgorithm.XChaCha20Poly1305;
    private readonly ISecretRepository _secrets;
    private readonly LimitOptions _limits;
    private readonly Key _key;

    public SecretStore(ISecretRepository secrets, IOptions<PythOnOptions> options)
    {
        _secrets = secrets;
        _limits = options.Value.Limits;
        var material = KeyFiles.LoadOrCreate(options.Value.FullDataDirectory, "secrets.key", options.Value.SecretsKey, Aead.KeySize, "PythOn:SecretsKey");
        _key = Key.Import(Aead, material.AsSpan(0, Aead.KeySize), KeyBlobFormat.RawSymmetricKey);
    }

    public static void ValidateName(string? name)
    {
        if (string.IsNullOrEmpty(name)) throw Problems.Invalid("secret name is required.");
        if (name.Length > MaxNameLength || !NameShape().IsMatch(name))
            throw Problems.Invalid($"secret name '{Truncate(name)}' is invalid: use 1 to {MaxNameLength} characters of A-Z, 0-9 and _, not starting with a digit (like an environment variable).");
    }

    public SecretRecord Put(ObjectId userId, string name, string? value)
    {
        ValidateName(name);
        if (string.IsNullOrEmpty(value)) throw Problems.Invalid("secret value is required: send {\"value\":\"...\"}.");
        if (value.Length < Execution.SecretMasker.MinMaskedLength)
            throw Problems.Invalid($"secret value must be at least {Execution.SecretMasker.MinMaskedLength} characters: shorter values cannot be masked in a run's output.");
        var plaintext = Encoding.UTF8.GetBytes(value);
        if (plaintext.Length > _limits.MaxSecretBytes)
            throw Problems.Invalid($"secret value is {plaintext.Length} bytes; the limit is {_limits.MaxSecretBytes} bytes.");

        var nonce = new byte[Aead.NonceSize];
        System.Security.Cryptography.RandomNumberGenerator.Fill(nonce);
        var ciphertext = Aead.Encrypt(_key, nonce, AssociatedData(userId, name), plaintext);

        // The repository counts and writes in one step, so concurrent puts cannot pass the limit.
        var now = Clock.NowMs();
        var record = new SecretRecord { UserId = userId, Name = name, Nonce = nonce, Ciphertext = ciphertext, CreatedAt = now, UpdatedAt = now };
        return _secrets.Put(record, _limits.MaxSecretsPerUser)
            ?? throw Problems.TooMany($"you have {_limits.MaxSecretsPerUser} secrets, the limit: delete one first.");
    }

    public bool Delete(ObjectId userId, string name)
    {
        ValidateName(name);
        return _secrets.Delete(userId, name);
    }

    public IReadOnlyList<SecretRecord> List(ObjectId userId) => _secrets.List(userId);

    /// <summary>Every secret of a user in clear, for injection into a run. Never log the result.</summary>
    public IReadOnlyDictionary<string, string> Reveal(ObjectId userId)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var record in List(userId))
        {
            var plaintext = Aead.Decrypt(_key, record.Nonce, AssociatedData(userId, record.Name), record.Ciphertext)
                ?? throw new InvalidOperationException($"secret {record.Name} of user {userId} does not decrypt with the configured secrets key.");
            values[record.Name] = Encoding.UTF8.GetString(plaintext);
        }
        return values;
    }

    public void Dispose() => _key.Dispose();

    private static byte[] AssociatedData(ObjectId userId, string name) => Encoding.UTF8.GetBytes($"pyth-on secret v1\n{userId}\n{name}");

    private static string Truncate(string s) => s.Length <= 80 ? s : s[..80] + "…";

    [GeneratedRegex("^[A-Z_][A-Z0-9_]*$")]
    private static partial Regex NameShape();
}
