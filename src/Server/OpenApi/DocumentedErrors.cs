using System.Text.RegularExpressions;
using PythOn.Server.Errors;

namespace PythOn.Server.OpenApi;

/// <summary>
/// The error responses of an operation: the gRPC codes its comment names (e.g. "NOT_FOUND (404)" or just
/// "(UNAUTHENTICATED)") plus those added by the caller, keyed by the HTTP status <see cref="HttpStatuses"/> gives them.
/// The number written in the comment is not used: the status on the wire is the one of that mapping.
/// </summary>
internal sealed partial class DocumentedErrors
{
    private readonly SortedDictionary<int, List<string>> _byStatus = new();

    public DocumentedErrors(string? comment)
    {
        if (comment is null) return;
        foreach (Match match in GrpcCodeName().Matches(comment))
        {
            if (HttpStatuses.CodeNamed(match.Value) is { } code) Add(HttpStatuses.For(code), match.Value);
        }
    }

    public IEnumerable<(int Status, string Description)> Responses =>
        _byStatus.Select(e => (e.Key, string.Join("; ", e.Value) + "."));

    /// <summary>Adds a reason once per gRPC code, keeping the more detailed text.</summary>
    public void Add(int status, string reason)
    {
        if (!_byStatus.TryGetValue(status, out var reasons)) _byStatus[status] = reasons = [];
        var code = reason.Split(':')[0];
        var same = reasons.FindIndex(r => r.Split(':')[0] == code);
        if (same < 0) reasons.Add(reason);
        else if (reason.Length > reasons[same].Length) reasons[same] = reason;
    }

    [GeneratedRegex(@"\b[A-Z][A-Z_]+[A-Z]\b")]
    private static partial Regex GrpcCodeName();
}
