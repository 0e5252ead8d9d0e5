using System.Security.Cryptography;
using System.Text;
using Konscious.Security.Cryptography;
using NSec.Cryptography;
using PythOn.Api.V1;

namespace PythOn.Api.Zk;

/// <summary>A payload that is not a well-formed v1 payload; the message says what to fix.</summary>
public sealed class ZkFormatException(string message) : Exception(message);

/// <summary>The decoded binary parts of a v1 payload.</summary>
public sealed record ZkPayloadParts(byte[] Salt, byte[] Nonce, byte[] Ciphertext);

/// <summary>
/// Zero-knowledge payload format v1: key = Argon2id(v=0x13, t=3, m=65536 KiB, p=4, 32 bytes) over the UTF-8 bytes
/// of the NFC-normalised master password with a 16-byte random salt; cipher = XChaCha20-Poly1305-IETF with a
/// 24-byte random nonce, no associated data, the 16-byte tag appended (libsodium's combined layout).
/// Parameters come from the version, never from the payload.
/// </summary>
public static class ZkPayloadV1
{
    public const int Version = 1;
    public const int SaltBytes = 16;
    public const int NonceBytes = 24;
    public const int TagBytes = 16;
    public const int KeyBytes = 32;
    public const int TimeCost = 3;
    public const int MemoryKiB = 65536;
    public const int Parallelism = 4;

    private static readonly AeadAlgorithm Aead = AeadAlgorithm.XChaCha20Poly1305;

    /// <summary>Checks version, canonical base64 and lengths; returns the decoded parts.</summary>
    /// <param name="payload">The payload as received.</param>
    /// <param name="maxCiphertextBytes">Largest accepted ciphertext (tag included).</param>
    public static ZkPayloadParts Parse(ZKPayload? payload, int maxCiphertextBytes = int.MaxValue)
    {
        if (payload is null) throw new ZkFormatException("encryptedPayload is required: {\"v\":1,\"salt\":...,\"nonce\":...,\"ciphertext\":...}.");
        if (payload.V != Version) throw new ZkFormatException($"encryptedPayload.v must be {Version} (got {payload.V}): only format v1 is defined.");
        var salt = Decode(payload.Salt, "salt");
        var nonce = Decode(payload.Nonce, "nonce");
        var ciphertext = Decode(payload.Ciphertext, "ciphertext");
        if (salt.Length != SaltBytes) throw new ZkFormatException($"encryptedPayload.salt must be {SaltBytes} bytes (got {salt.Length}).");
        if (nonce.Length != NonceBytes) throw new ZkFormatException($"encryptedPayload.nonce must be {NonceBytes} bytes (got {nonce.Length}).");
        if (ciphertext.Length < TagBytes) throw new ZkFormatException($"encryptedPayload.ciphertext must be at least {TagBytes} bytes, the tag (got {ciphertext.Length}).");
        if (ciphertext.Length > maxCiphertextBytes) throw new ZkFormatException($"encryptedPayload.ciphertext is {ciphertext.Length} bytes; the limit is {maxCiphertextBytes}.");
        return new ZkPayloadParts(salt, nonce, ciphertext);
    }

    public static async Task<byte[]> DeriveKeyAsync(string masterPassword, byte[] salt)
    {
        var password = Encoding.UTF8.GetBytes(masterPassword.Normalize(NormalizationForm.FormC));
        using var argon = new Konscious.Security.Cryptography.Argon2id(password)
        {
            Salt = salt,
            Iterations = TimeCost,
            MemorySize = MemoryKiB,
            DegreeOfParallelism = Parallelism,
        };
        return await argon.GetBytesAsync(KeyBytes);
    }

    public static async Task<ZKPayload> EncryptAsync(string plaintext, string masterPassword)
    {
        var salt = RandomNumberGenerator.GetBytes(SaltBytes);
        var nonce = RandomNumberGenerator.GetBytes(NonceBytes);
        var keyBytes = await DeriveKeyAsync(masterPassword, salt);
        try
        {
            using var key = Key.Import(Aead, keyBytes, KeyBlobFormat.RawSymmetricKey);
            var ciphertext = Aead.Encrypt(key, nonce, ReadOnlySpan<byte>.Empty, Encoding.UTF8.GetBytes(plaintext));
            return new ZKPayload
            {
                V = Version,
                Salt = Convert.ToBase64String(salt),
                Nonce = Convert.ToBase64String(nonce),
                Ciphertext = Convert.ToBase64String(ciphertext),
            };
        }
        finally
        {
            CryptographicOperations.ZeroMemory(keyBytes);
        }
    }

    /// <summary>The plaintext, or null for a wrong password or a tampered payload (indistinguishable by design).</summary>
    public static async Task<string?> DecryptAsync(ZKPayload payload, string masterPassword)
    {
        var parts = Parse(payload);
        var keyBytes = await DeriveKeyAsync(masterPassword, parts.Salt);
        try
        {
            using var key = Key.Import(Aead, keyBytes, KeyBlobFormat.RawSymmetricKey);
            return Aead.Decrypt(key, parts.Nonce, ReadOnlySpan<byte>.Empty, parts.Ciphertext) is { } plaintext
                ? Encoding.UTF8.GetString(plaintext)
                : null;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(keyBytes);
        }
    }

    // Canonical standard base64 only: what decodes must re-encode to exactly the input (no whitespace,
    // padding present, no stray bits), so one payload has one spelling.
    private static byte[] Decode(string? text, string field)
    {
        if (string.IsNullOrEmpty(text)) throw new ZkFormatException($"encryptedPayload.{field} is required (standard padded base64).");
        var buffer = new byte[text.Length];
        if (!Convert.TryFromBase64String(text, buffer, out var written))
            throw new ZkFormatException($"encryptedPayload.{field} is not valid standard base64 (RFC 4648 §4, with padding).");
        var bytes = buffer[..written];
        if (Convert.ToBase64String(bytes) != text)
            throw new ZkFormatException($"encryptedPayload.{field} is not canonical base64: use standard padded base64 without whitespace.");
        return bytes;
    }
}
