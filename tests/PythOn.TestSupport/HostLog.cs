namespace PythOn.TestSupport;

/// <summary>What an ASP.NET Core host logs (category Microsoft.Hosting.Lifetime) that tests wait for.</summary>
public static class HostLog
{
    /// <summary>Logged once every endpoint is bound: this process, not another one on its port, is serving.</summary>
    public const string Started = "Application started";

    /// <summary>A command-line setting that keeps <see cref="Started"/> logged whatever levels the configuration sets.</summary>
    public const string LifetimeAtInformation = "--Logging:LogLevel:Microsoft.Hosting.Lifetime=Information";
}
