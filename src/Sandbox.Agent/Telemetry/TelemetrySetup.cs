using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Logs;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using PythOn.Sandbox.Agent.Slots;

namespace PythOn.Sandbox.Agent.Telemetry;

/// <summary>
/// OpenTelemetry for the agent: its spans continue the server's trace (the W3C traceparent of each gRPC call), its
/// metrics (<see cref="AgentTelemetry"/>) and logs go over OTLP when Agent:Telemetry:OtlpEndpoint (or the standard
/// OTEL_EXPORTER_OTLP_ENDPOINT) is set; console logs are JSON lines with Agent:Logging:Json, each with its trace id.
/// The agent serves no HTTP endpoint of its own: its listeners speak only gRPC.
/// </summary>
public static class TelemetrySetup
{
    public const string Section = "Agent:Telemetry";

    public static WebApplicationBuilder AddPythOnTelemetry(this WebApplicationBuilder builder)
    {
        var config = builder.Configuration;
        builder.Logging.Configure(o => o.ActivityTrackingOptions = ActivityTrackingOptions.TraceId | ActivityTrackingOptions.SpanId);
        if (config.GetValue<bool>("Agent:Logging:Json"))
            builder.Logging.AddJsonConsole(o =>
            {
                o.IncludeScopes = true;
                o.UseUtcTimestamp = true;
                o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ";
            });
        builder.Logging.AddOpenTelemetry(o => o.IncludeFormattedMessage = true);

        var otel = builder.Services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService("pyth-on-agent", serviceVersion: typeof(TelemetrySetup).Assembly.GetName().Version?.ToString(),
                serviceInstanceId: config["Agent:InstanceId"]))
            .WithTracing(t => t
                .AddSource(AgentTelemetry.Name)
                .AddAspNetCoreInstrumentation(o => o.RecordException = false)) // exception messages may quote the request
            .WithMetrics(m => m.AddMeter(AgentTelemetry.Name).AddAspNetCoreInstrumentation());

        var endpoint = config[$"{Section}:OtlpEndpoint"];
        if (!string.IsNullOrWhiteSpace(endpoint))
        {
            if (!Uri.TryCreate(endpoint, UriKind.Absolute, out var uri) || (uri.Scheme != "http" && uri.Scheme != "https"))
                throw new InvalidOperationException($"{Section}:OtlpEndpoint is '{endpoint}': use an http:// or https:// address.");
            var protocol = (config[$"{Section}:OtlpProtocol"] ?? "grpc").Trim().ToLowerInvariant() switch
            {
                "grpc" => OtlpExportProtocol.Grpc,
                "http/protobuf" or "http" => OtlpExportProtocol.HttpProtobuf,
                var other => throw new InvalidOperationException($"{Section}:OtlpProtocol is '{other}': use grpc or http/protobuf."),
            };
            otel.UseOtlpExporter(protocol, uri);
        }
        else if (!string.IsNullOrWhiteSpace(config["OTEL_EXPORTER_OTLP_ENDPOINT"]))
            otel.UseOtlpExporter();
        return builder;
    }

    /// <summary>Starts observing the slot pool (the slots gauge).</summary>
    public static WebApplication UsePythOnTelemetry(this WebApplication app)
    {
        AgentTelemetry.ObserveSlots(app.Services.GetRequiredService<SlotPool>());
        return app;
    }
}
