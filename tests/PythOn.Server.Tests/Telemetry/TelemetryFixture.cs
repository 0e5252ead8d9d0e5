using PythOn.Server.Tests.Infrastructure;

namespace PythOn.Server.Tests.Telemetry;

/// <summary>
/// A real agent and server exporting traces, metrics and logs over OTLP/HTTP to a real receiver on loopback, with
/// JSON console logs and the Prometheus endpoint behind the operator key. Export intervals are short so the tests
/// see what a run produced within seconds.
/// </summary>
public sealed class TelemetryFixture : SandboxedServerFixture
{
    public const string OperatorKey = "operator-key-of-the-telemetry-tests-4f1c";

    public OtlpReceiver Receiver { get; } = new();

    protected override string Purpose => "otel";

    private static readonly Dictionary<string, string> FastExport = new()
    {
        ["OTEL_BSP_SCHEDULE_DELAY"] = "100",
        ["OTEL_BLRP_SCHEDULE_DELAY"] = "100",
        ["OTEL_METRIC_EXPORT_INTERVAL"] = "500",
    };

    protected override IReadOnlyDictionary<string, string> ServerSettings => new Dictionary<string, string>(FastExport)
    {
        ["PythOn:Telemetry:OtlpEndpoint"] = Receiver.Endpoint,
        ["PythOn:Telemetry:OtlpProtocol"] = "http/protobuf",
        ["PythOn:Logging:Json"] = "true",
        ["PythOn:OperatorKey"] = OperatorKey,
    };

    protected override IReadOnlyDictionary<string, string> AgentSettings => new Dictionary<string, string>(FastExport)
    {
        ["Agent__Telemetry__OtlpEndpoint"] = Receiver.Endpoint,
        ["Agent__Telemetry__OtlpProtocol"] = "http/protobuf",
        ["Agent__Logging__Json"] = "true",
    };

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        Receiver.Dispose();
    }
}
