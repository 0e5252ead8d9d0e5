using PythOn.Api.V1;
using PythOn.Api.Zk;

namespace PythOn.Client;

// ZK RPCs and local encryption: code is encrypted here and never sent in the clear.
public sealed partial class PythOnClient
{
    /// <summary>
    /// Encrypts <paramref name="code"/> on this machine into a v1 payload (Argon2id + XChaCha20-Poly1305), without
    /// any call. Takes about a second and 64 MiB (the key derivation).
    /// </summary>
    /// <param name="code">The program text.</param>
    /// <param name="masterPassword">The master password; it never leaves this process.</param>
    /// <param name="cancellationToken">Stops waiting for the derivation.</param>
    /// <returns>The payload, ready for <see cref="StoreCodeAsync"/>.</returns>
    public static async Task<ZKPayload> EncryptLocallyAsync(string code, string masterPassword, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(code);
        ArgumentException.ThrowIfNullOrEmpty(masterPassword);
        cancellationToken.ThrowIfCancellationRequested();
        return await ZkPayloadV1.EncryptAsync(code, masterPassword).WaitAsync(cancellationToken);
    }

    /// <summary>
    /// Encrypts <paramref name="code"/> locally (<see cref="EncryptLocallyAsync"/>) and stores the ciphertext under
    /// <paramref name="name"/> (ZK.StoreCode): neither the program text nor the master password is sent.
    /// </summary>
    /// <param name="name">1 to 64 characters of <c>[A-Za-z0-9._-]</c>; an existing program of that name is replaced.</param>
    /// <param name="code">The program text.</param>
    /// <param name="masterPassword">The master password; needed again to run the program.</param>
    /// <param name="language">"python" or "javascript".</param>
    /// <param name="description">Free text, at most 1024 characters; null for none.</param>
    /// <param name="cancellationToken">Cancels the encryption wait or the call.</param>
    /// <returns>The server's confirmation.</returns>
    public async Task<StoreCodeResponse> StoreEncryptedCodeAsync(string name, string code, string masterPassword, string language,
        string? description = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(language);
        var payload = await EncryptLocallyAsync(code, masterPassword, cancellationToken);
        return await StoreCodeAsync(name, payload, language, description, cancellationToken);
    }

    /// <summary>Stores an already encrypted v1 payload under a name (ZK.StoreCode). Retried on UNAVAILABLE.</summary>
    /// <param name="name">1 to 64 characters of <c>[A-Za-z0-9._-]</c>.</param>
    /// <param name="payload">The encrypted program.</param>
    /// <param name="language">"python" or "javascript".</param>
    /// <param name="description">Free text; null for none.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The server's confirmation.</returns>
    public Task<StoreCodeResponse> StoreCodeAsync(string name, ZKPayload payload, string language, string? description = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(payload);
        ArgumentNullException.ThrowIfNull(language);
        var request = new StoreCodeRequest { Name = name, EncryptedPayload = payload, Language = language, Description = description ?? "" };
        return CallAsync((h, ct) => _zk.StoreCodeAsync(request, h, cancellationToken: ct), cancellationToken);
    }

    /// <summary>
    /// Has the server encrypt a program (ZK.Encrypt, a testing helper: the server sees the plaintext and the
    /// password). Prefer <see cref="EncryptLocallyAsync"/>. Retried on UNAVAILABLE.
    /// </summary>
    /// <param name="code">The program text.</param>
    /// <param name="masterPassword">The master password.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The payload.</returns>
    public Task<ZKPayload> EncryptOnServerAsync(string code, string masterPassword, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(code);
        ArgumentNullException.ThrowIfNull(masterPassword);
        var request = new EncryptRequest { Code = code, MasterPassword = masterPassword };
        return CallAsync((h, ct) => _zk.EncryptAsync(request, h, cancellationToken: ct), cancellationToken);
    }

    /// <summary>Deletes a stored program (ZK.DeleteCode); NOT_FOUND when there is none of that name. Retried on UNAVAILABLE.</summary>
    /// <param name="name">Its name.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>A task that completes when the program is deleted.</returns>
    public async Task DeleteCodeAsync(string name, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(name);
        await CallAsync((h, ct) => _zk.DeleteCodeAsync(new DeleteCodeRequest { Name = name }, h, cancellationToken: ct), cancellationToken);
    }

    /// <summary>Lists the caller's stored programs, metadata only (ZK.ListCode). Retried on UNAVAILABLE.</summary>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The programs, ordered by name; <c>size</c> is the ciphertext's length in bytes.</returns>
    public async Task<IReadOnlyList<EncryptedCodeMetadata>> ListCodeAsync(CancellationToken cancellationToken = default) =>
        (await CallAsync((h, ct) => _zk.ListCodeAsync(new ListCodeRequest(), h, cancellationToken: ct), cancellationToken)).Code;

    /// <summary>
    /// Runs a stored program; it is decrypted inside the sandbox with the master password (ZK.ExecuteCode). A wrong
    /// password is PERMISSION_DENIED "decryption failed". Not retried.
    /// </summary>
    /// <param name="request">Name, master password, stdin, arguments, timeout.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>Output, error output and exit code.</returns>
    public Task<ExecuteResponse> ExecuteCodeAsync(ExecuteCodeRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return CallAsync((h, ct) => _zk.ExecuteCodeAsync(request, h, cancellationToken: ct), cancellationToken);
    }

    /// <summary>Runs the stored program <paramref name="name"/> with <paramref name="masterPassword"/> (ZK.ExecuteCode). Not retried.</summary>
    /// <param name="name">The stored program's name.</param>
    /// <param name="masterPassword">The master password it was encrypted with.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>Output, error output and exit code.</returns>
    public Task<ExecuteResponse> ExecuteCodeAsync(string name, string masterPassword, CancellationToken cancellationToken = default) =>
        ExecuteCodeAsync(new ExecuteCodeRequest
        {
            Name = name ?? throw new ArgumentNullException(nameof(name)),
            MasterPassword = masterPassword ?? throw new ArgumentNullException(nameof(masterPassword)),
        }, cancellationToken);
}
