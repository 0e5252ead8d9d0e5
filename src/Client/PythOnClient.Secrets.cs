using PythOn.Api.V1;

namespace PythOn.Client;

// Secrets RPCs.
public sealed partial class PythOnClient
{
    /// <summary>Creates or replaces a secret (Secrets.PutSecret). Retried on UNAVAILABLE.</summary>
    /// <param name="name">The environment variable name, <c>[A-Z_][A-Z0-9_]*</c>.</param>
    /// <param name="value">The value, 1 byte to 64 KiB of UTF-8.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The secret's metadata (never its value).</returns>
    public Task<SecretMetadata> PutSecretAsync(string name, string value, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(value);
        var request = new PutSecretRequest { Name = name, Secret = new SecretInput { Value = value } };
        return CallAsync((h, ct) => _secrets.PutSecretAsync(request, h, cancellationToken: ct), cancellationToken);
    }

    /// <summary>Deletes a secret (Secrets.DeleteSecret); NOT_FOUND when there is none of that name. Retried on UNAVAILABLE.</summary>
    /// <param name="name">The secret's name.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>A task that completes when the secret is gone.</returns>
    public async Task DeleteSecretAsync(string name, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(name);
        await CallAsync((h, ct) => _secrets.DeleteSecretAsync(new DeleteSecretRequest { Name = name }, h, cancellationToken: ct), cancellationToken);
    }

    /// <summary>Lists the caller's secrets, names and timestamps only (Secrets.ListSecrets). Retried on UNAVAILABLE.</summary>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The secrets, ordered by name.</returns>
    public async Task<IReadOnlyList<SecretMetadata>> ListSecretsAsync(CancellationToken cancellationToken = default) =>
        (await CallAsync((h, ct) => _secrets.ListSecretsAsync(new ListSecretsRequest(), h, cancellationToken: ct), cancellationToken)).Secrets;
}
