using PythOn.Api.Languages;
using PythOn.Server.Errors;

namespace PythOn.Server.Execution;

/// <summary>The server's one check of a language given by a caller (runs, package lists, stored code, generate).</summary>
public static class KnownLanguages
{
    /// <summary>The canonical name of a language name or alias ("py" gives "python"); INVALID_ARGUMENT naming what is
    /// accepted otherwise.</summary>
    public static string Require(string? given) =>
        LanguageRegistry.Find(given)?.Name ?? throw Problems.Invalid(LanguageRegistry.UnknownLanguageMessage(given));
}
