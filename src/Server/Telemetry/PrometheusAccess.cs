namespace PythOn.Server.Telemetry;

/// <summary>Who may scrape GET /metrics.</summary>
public static class PrometheusAccess
{
    public const string Operator = "operator";
    public const string Anonymous = "anonymous";
    public const string Off = "off";
    public static readonly string[] All = [Operator, Anonymous, Off];
}
