using PythOn.Api.V1;

namespace PythOn.Client;

// Audit and System RPCs.
public sealed partial class PythOnClient
{
    /// <summary>Returns one page of the caller's audit log, newest first (Audit.GetAuditLog). Retried on UNAVAILABLE.</summary>
    /// <param name="pageSize">Entries per page, 1 to 200; 0 for the server's default (50).</param>
    /// <param name="pageToken">The previous page's <c>next_page_token</c>; null or empty for the first page.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The entries and the token of the next page (empty on the last page).</returns>
    public Task<GetAuditLogResponse> GetAuditLogAsync(int pageSize = 0, string? pageToken = null, CancellationToken cancellationToken = default)
    {
        var request = new GetAuditLogRequest { PageSize = pageSize, PageToken = pageToken ?? "" };
        return CallAsync((h, ct) => _audit.GetAuditLogAsync(request, h, cancellationToken: ct), cancellationToken);
    }

    /// <summary>Reports the health of storage, sandbox agents, Docker, the sandbox slots and the model (System.Health).
    /// Anonymous; the details beyond <c>status</c> come only with credentials, which the client sends when it has them.
    /// Retried on UNAVAILABLE.</summary>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The server's health.</returns>
    public Task<HealthResponse> GetHealthAsync(CancellationToken cancellationToken = default) =>
        CallAsync((headers, ct) => _system.HealthAsync(new HealthRequest(), headers, cancellationToken: ct), cancellationToken);

    /// <summary>Reports the version, languages and limits (System.Info). Anonymous; retried on UNAVAILABLE.</summary>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The server's version, languages and limits.</returns>
    public Task<InfoResponse> GetInfoAsync(CancellationToken cancellationToken = default) =>
        _system.InfoAsync(new InfoRequest(), cancellationToken: cancellationToken).ResponseAsync;
}
