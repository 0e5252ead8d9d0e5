using Grpc.Core;
using LiteDB;
using Microsoft.Extensions.Options;
using PythOn.Server.Errors;
using PythOn.Server.Hosting;

namespace PythOn.Server.Packages;

/// <summary>
/// The package set of one run: the caller's list for the run's language plus the request's own packages (a
/// request package replaces a list package of the same name). Waits a bounded time (PythOn:Packages:RunWaitSeconds)
/// for a list that is still installing. A list with a failed package fails the run with FAILED_PRECONDITION (400)
/// naming the package and the installer's message: runs never silently use a different set than the list says.
/// Runs in a language whose list is empty are not affected by the other language's list.
/// </summary>
public sealed class RunPackages(PackageList list, IOptions<PythOnOptions> options)
{
    public async Task<IReadOnlyList<string>> ForRunAsync(ObjectId userId, string language, IReadOnlyCollection<string> requested,
        CancellationToken cancellationToken)
    {
        var o = options.Value.Packages;
        if (requested.Count > o.MaxPerRequest)
            throw Problems.Invalid($"{requested.Count} packages given for this run; the limit is {o.MaxPerRequest}.");
        var extra = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var input in requested)
        {
            if (!PackageRequirements.TryParse(language, input, out var requirement, out var error)) throw Problems.Invalid(error);
            if (extra.ContainsKey(requirement!.Name))
                throw Problems.Invalid($"'{requirement.Name}' is listed twice in packages: give each package once.");
            extra[requirement.Name] = requirement.Requirement;
        }

        var rows = list.List(userId, language);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(o.RunWaitSeconds);
        // Polling the stored status with a deadline: the background install writes it.
        while (rows.Any(r => r.Status is PackageStates.Pending or PackageStates.Installing))
        {
            if (DateTime.UtcNow >= deadline)
            {
                var waiting = rows.Where(r => r.Status is PackageStates.Pending or PackageStates.Installing).Select(r => r.Name);
                throw Problems.Unavailable(
                    $"your {language} packages are still being installed ({string.Join(", ", waiting)}); try again in a moment " +
                    "(GET /api/v1/packages shows their status).");
            }
            await Task.Delay(100, cancellationToken);
            rows = list.List(userId, language);
        }
        var failed = rows.Where(r => r.Status == PackageStates.Failed).ToList();
        if (failed.Count > 0)
            throw Problems.FailedPrecondition(
                $"your {language} package list could not be installed ({string.Join(", ", failed.Select(f => f.Requirement))}): " +
                $"{failed[0].Message} — fix or remove the package (runs in other languages are not affected).");

        var set = rows.ToDictionary(r => r.Name, r => r.Requirement, StringComparer.Ordinal);
        foreach (var (name, requirement) in extra) set[name] = requirement;
        return set.Values.OrderBy(r => r, StringComparer.Ordinal).ToList();
    }
}
