using Grpc.Core;
using Microsoft.AspNetCore.Authorization;
using PythOn.Api.Languages;
using PythOn.Api.V1;
using PythOn.Server.Audit;
using PythOn.Server.Auth;
using PythOn.Server.Errors;
using PythOn.Server.Execution;
using PythOn.Server.Storage;
using Empty = Google.Protobuf.WellKnownTypes.Empty;

namespace PythOn.Server.Packages;

[Authorize]
public sealed class PackagesService(PackageList packages, PackageInstallQueue installs, AuditLog audit) : PythOn.Api.V1.Packages.PackagesBase
{
    public override Task<ListPackagesResponse> ListPackages(ListPackagesRequest request, ServerCallContext context)
    {
        var caller = context.Caller();
        var language = request.HasLanguage ? KnownLanguages.Require(request.Language) : null;
        return Task.FromResult(ToResponse(packages.List(caller.UserId, language)));
    }

    public override async Task<ListPackagesResponse> SetPackages(SetPackagesRequest request, ServerCallContext context)
    {
        var caller = context.Caller();
        var language = KnownLanguages.Require(request.Language);
        packages.Set(caller.UserId, language, request.Packages);
        installs.ListChanged(caller.UserId, language);
        var rows = packages.List(caller.UserId, language);
        await audit.RecordAsync(caller.UserId, "package.set", $"packages/{language}", AuditOutcome.Success,
            caller.ClientAddress, new Dictionary<string, string> { ["count"] = rows.Count.ToString() });
        return ToResponse(rows);
    }

    public override async Task<PackageInfo> AddPackage(AddPackageRequest request, ServerCallContext context)
    {
        var caller = context.Caller();
        var row = packages.Add(caller.UserId, request.Language, request.Package);
        installs.ListChanged(caller.UserId, row.Language);
        row = packages.List(caller.UserId, row.Language).FirstOrDefault(r => r.Name == row.Name) ?? row;
        await audit.RecordAsync(caller.UserId, "package.add", $"package/{row.Language}/{row.Name}", AuditOutcome.Success, caller.ClientAddress,
            new Dictionary<string, string> { ["requirement"] = row.Requirement });
        return ToInfo(row);
    }

    public override async Task<Empty> RemovePackage(RemovePackageRequest request, ServerCallContext context)
    {
        var caller = context.Caller();
        var language = KnownLanguages.Require(request.HasLanguage ? request.Language : LanguageRegistry.Python.Name);
        if (!packages.Remove(caller.UserId, language, request.Name))
            throw Problems.NotFound($"your {language} package list has no package named '{request.Name}'.");
        installs.ListChanged(caller.UserId, language);
        var name = PackageRequirements.NormalizeName(language, request.Name);
        await audit.RecordAsync(caller.UserId, "package.remove", $"package/{language}/{name}", AuditOutcome.Success, caller.ClientAddress);
        return new Empty();
    }

    private static ListPackagesResponse ToResponse(IEnumerable<PackageRecord> rows)
    {
        var response = new ListPackagesResponse();
        response.Packages.AddRange(rows.Select(ToInfo));
        return response;
    }

    private static PackageInfo ToInfo(PackageRecord row) => new()
    {
        Name = row.Name,
        Language = row.Language,
        Requirement = row.Requirement,
        Version = row.Version,
        Status = row.Status switch
        {
            PackageStates.Installing => PackageStatus.Installing,
            PackageStates.Ready => PackageStatus.Ready,
            PackageStates.Failed => PackageStatus.Failed,
            _ => PackageStatus.Pending,
        },
        Message = row.Message,
        AddedAt = Clock.ToTimestamp(row.AddedAt),
        UpdatedAt = Clock.ToTimestamp(row.UpdatedAt),
    };
}
