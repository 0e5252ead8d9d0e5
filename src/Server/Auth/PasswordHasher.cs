using System.Security.Cryptography;
using System.Text;
using Konscious.Security.Cryptography;

namespace PythOn.Server.Auth;

/// <summary>Argon2id password hashes in PHC string format; the parameters travel in the string. At most
/// PythOn:Limits:PasswordChecksAtOnce derivations run at once (each takes 19 MiB and a core for tens of milliseconds):
/// more wait up to PasswordCheckWaitMs, then the sign-in is refused with RESOURCE_EXHAUSTED (429) and Retry-After, so
/// a flood of sign-ins can neither exhaust memory nor take every core from runs.</summary>
public sealed class PasswordHasher(Microsoft.Extensions.Options.IOptions<Hosting.PythOnOptions> options)
{
    private readonly SemaphoreSlim _derivations = new(Math.Max(1, options.Value.Limits.PasswordChecksAtOnce));
    private readonly TimeSpan _queueWait = TimeSpan.FromMilliseconds(Math.Max(0, options.Value.Limits.PasswordCheckWaitMs));
    // OWASP's Argon2id baseline: 19 MiB, 2 passes, 1 lane.
    private const int MemoryKiB = 19 * 1024;
    private const int Iterations = 2;
    private const int Parallelism = 1;
    private const int SaltBytes = 16;
    private const int HashBytes = 32;

    public async Task<string> HashAsync(string password)
    {
        var salt = RandomNumberGenerator.GetBytes(SaltBytes);
        var hash = await BoundedAsync(() => DeriveAsync(password, salt, MemoryKiB, Iterations, Parallelism, HashBytes));
        return $"$argon2id$v=19$m={MemoryKiB},t={Iterations},p={Parallelism}${B64(salt)}${B64(hash)}";
    }

    public async Task<bool> VerifyAsync(string password, string phc)
    {
        var parts = phc.Split('$');
        // ["", "argon2id", "v=19", "m=..,t=..,p=..", salt, hash]
        if (parts.Length != 6 || parts[1] != "argon2id") return false;
        var settings = parts[3].Split(',').Select(p => p.Split('=')).ToDictionary(p => p[0], p => int.Parse(p[1]));
        var salt = FromB64(parts[4]);
        var expected = FromB64(parts[5]);
        var actual = await BoundedAsync(() => DeriveAsync(password, salt, settings["m"], settings["t"], settings["p"], expected.Length));
        return CryptographicOperations.FixedTimeEquals(actual, expected);
    }

    /// <summary>Spends the time of a real verification, so unknown emails can't be told apart by timing.</summary>
    public Task BurnAsync(string password) =>
        BoundedAsync(() => DeriveAsync(password, new byte[SaltBytes], MemoryKiB, Iterations, Parallelism, HashBytes));

    private async Task<T> BoundedAsync<T>(Func<Task<T>> derive)
    {
        if (!await _derivations.WaitAsync(_queueWait))
            throw Errors.Problems.TooMany("the server is checking too many passwords at once; try again in a moment.", TimeSpan.FromSeconds(1));
        try
        {
            return await derive();
        }
        finally
        {
            _derivations.Release();
        }
    }

    private static async Task<byte[]> DeriveAsync(string password, byte[] salt, int memoryKiB, int iterations, int parallelism, int length)
    {
        using var argon = new Argon2id(Encoding.UTF8.GetBytes(password))
        {
            Salt = salt,
            MemorySize = memoryKiB,
            Iterations = iterations,
            DegreeOfParallelism = parallelism,
        };
        return await argon.GetBytesAsync(length);
    }

    private static string B64(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=');

    private static byte[] FromB64(string text) => Convert.FromBase64String(text.PadRight(text.Length + (4 - text.Length % 4) % 4, '='));
}
