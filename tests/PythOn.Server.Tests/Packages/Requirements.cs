using PythOn.Server.Packages;

namespace PythOn.Server.Tests.Packages;

/// <summary>Shorthands of the requirement parser tests: a requirement that must be accepted or refused.</summary>
internal static class Requirements
{
    public const string Py = "python";
    public const string Js = "javascript";

    public static PackageRequirement Accept(string language, string input)
    {
        var ok = PackageRequirements.TryParse(language, input, out var requirement, out var error);
        Assert.True(ok, $"expected '{input}' to be accepted, got: {error}");
        Assert.NotNull(requirement);
        Assert.Equal("", error);
        return requirement!;
    }

    public static string Refuse(string language, string input)
    {
        var ok = PackageRequirements.TryParse(language, input, out var requirement, out var error);
        Assert.False(ok, $"expected '{input}' to be refused, got: {requirement}");
        Assert.Null(requirement);
        Assert.False(string.IsNullOrWhiteSpace(error));
        return error;
    }
}
