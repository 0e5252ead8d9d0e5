using PythOn.Api.V1;

namespace PythOn.Client;

// Packages RPCs.
public sealed partial class PythOnClient
{
    /// <summary>Lists the caller's packages with their install status (Packages.ListPackages). Retried on UNAVAILABLE.</summary>
    /// <param name="language">"python" or "javascript"; null for both.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The packages, ordered by language and name.</returns>
    public async Task<IReadOnlyList<PackageInfo>> ListPackagesAsync(string? language = null, CancellationToken cancellationToken = default)
    {
        var request = new ListPackagesRequest();
        if (language is not null) request.Language = language;
        return (await CallAsync((h, ct) => _packages.ListPackagesAsync(request, h, cancellationToken: ct), cancellationToken)).Packages;
    }

    /// <summary>Replaces the caller's package list for one language (Packages.SetPackages). Retried on UNAVAILABLE.</summary>
    /// <param name="language">"python" or "javascript".</param>
    /// <param name="requirements">The new list, e.g. "requests>=2.31"; empty clears it.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The list now stored.</returns>
    public async Task<IReadOnlyList<PackageInfo>> SetPackagesAsync(string language, IEnumerable<string> requirements,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(language);
        ArgumentNullException.ThrowIfNull(requirements);
        var request = new SetPackagesRequest { Language = language, Packages = { requirements } };
        return (await CallAsync((h, ct) => _packages.SetPackagesAsync(request, h, cancellationToken: ct), cancellationToken)).Packages;
    }

    /// <summary>Adds a package, or replaces the requirement of the package of that name (Packages.AddPackage). Retried on UNAVAILABLE.</summary>
    /// <param name="language">"python" or "javascript".</param>
    /// <param name="requirement">The requirement, e.g. "requests>=2.31" or "lodash@^4".</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The stored package.</returns>
    public Task<PackageInfo> AddPackageAsync(string language, string requirement, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(language);
        ArgumentNullException.ThrowIfNull(requirement);
        var request = new AddPackageRequest { Language = language, Package = requirement };
        return CallAsync((h, ct) => _packages.AddPackageAsync(request, h, cancellationToken: ct), cancellationToken);
    }

    /// <summary>Removes a package (Packages.RemovePackage); NOT_FOUND when the list has none of that name. Retried on UNAVAILABLE.</summary>
    /// <param name="name">The package name without version, e.g. "requests" or "@scope/pkg".</param>
    /// <param name="language">"python" or "javascript"; null means "python".</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>A task that completes when the package is removed.</returns>
    public async Task RemovePackageAsync(string name, string? language = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(name);
        var request = new RemovePackageRequest { Name = name };
        if (language is not null) request.Language = language;
        await CallAsync((h, ct) => _packages.RemovePackageAsync(request, h, cancellationToken: ct), cancellationToken);
    }
}
