using System.Buffers.Text;
using System.Text;
using Grpc.Core;
using Microsoft.AspNetCore.Authorization;
using PythOn.Api.V1;
using PythOn.Server.Auth;
using PythOn.Server.Errors;
using PythOn.Server.Storage;

namespace PythOn.Server.Audit;

[Authorize]
public sealed class AuditService(AuditLog audit) : PythOn.Api.V1.Audit.AuditBase
{
    private const int DefaultPageSize = 50;
    private const int MaxPageSize = 200;

    public override Task<GetAuditLogResponse> GetAuditLog(GetAuditLogRequest request, ServerCallContext context)
    {
        var caller = context.Caller();
        var size = request.PageSize == 0 ? DefaultPageSize : request.PageSize;
        if (size is < 1 or > MaxPageSize)
            throw Problems.Invalid($"pageSize must be between 1 and {MaxPageSize} (got {request.PageSize}).");
        var before = string.IsNullOrEmpty(request.PageToken) ? (long?)null : ParseToken(request.PageToken, caller);

        // One extra row tells whether another page exists.
        var rows = audit.Page(caller.UserId, before, size + 1);
        var response = new GetAuditLogResponse();
        foreach (var row in rows.Take(size)) response.Entries.Add(ToEntry(row));
        if (rows.Count > size) response.NextPageToken = MakeToken(caller, rows[size - 1].Id);
        return Task.FromResult(response);
    }

    private static AuditEntry ToEntry(AuditRecord row)
    {
        var entry = new AuditEntry
        {
            Id = row.Id.ToString(),
            Time = Clock.ToTimestamp(row.Time),
            Action = row.Action,
            Resource = row.Resource,
            Outcome = row.Outcome,
            ClientAddress = row.ClientAddress,
        };
        entry.Details.Add(row.Details);
        return entry;
    }

    // The token names its owner so one user's token is never a cursor into another's log.
    private static string MakeToken(Caller caller, long lastId) =>
        Base64Url.EncodeToString(Encoding.UTF8.GetBytes($"{caller.UserId}:{lastId}"));

    private static long ParseToken(string token, Caller caller)
    {
        try
        {
            var parts = Encoding.UTF8.GetString(Base64Url.DecodeFromChars(token)).Split(':');
            if (parts.Length == 2 && parts[0] == caller.UserId.ToString() && long.TryParse(parts[1], out var id)) return id;
        }
        catch (FormatException) { }
        throw Problems.Invalid("pageToken is not a token this API issued to you: pass nextPageToken from your previous page, or omit it.");
    }
}
