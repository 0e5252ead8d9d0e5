namespace PythOn.Server.Telemetry;

/// <summary>PythOn:Telemetry: where traces, metrics and logs go. OTLP is off unless an endpoint is set (here or with
/// the standard OTEL_EXPORTER_OTLP_ENDPOINT); the Prometheus endpoint is on.</summary>
public sealed class TelemetryOptions
{
    public const string Section = "PythOn:Telemetry";

    /// <summary>OTLP collector base address (e.g. http://127.0.0.1:4317 for gRPC, http://127.0.0.1:4318 for HTTP).</summary>
    public string? OtlpEndpoint { get; set; }

    /// <summary>"grpc" (default) or "http/protobuf".</summary>
    public string OtlpProtocol { get; set; } = "grpc";

    /// <summary>GET /metrics on the REST port: "operator" (needs x-operator-key: PythOn:OperatorKey), "anonymous" or "off".</summary>
    public string Prometheus { get; set; } = PrometheusAccess.Operator;
}
