using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.HttpLogging;
using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Logs;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using PythOn.Server.Errors;

namespace PythOn.Server.Telemetry;

/// <summary>
/// OpenTelemetry for the server: traces (incoming requests, calls to agents and model providers, the run's own spans),
/// metrics (<see cref="ServerTelemetry"/>, ASP.NET Core's) on GET /metrics and over OTLP when configured, logs over
/// OTLP when configured and as JSON lines on the console with PythOn:Logging:Json, each with its trace id.
/// </summary>
public static class TelemetrySetup
{
    public const string MetricsPath = "/metrics";

    public static WebApplicationBuilder AddPythOnTelemetry(this WebApplicationBuilder builder)
    {
        var config = builder.Configuration;
        var options = config.GetSection(TelemetryOptions.Section).Get<TelemetryOptions>() ?? new TelemetryOptions();
        var prometheus = options.Prometheus.Trim().ToLowerInvariant();
        if (!PrometheusAccess.All.Contains(prometheus))
            throw new PythOn.Hosting.InvalidSettingException(
                $"{TelemetryOptions.Section}:Prometheus is '{options.Prometheus}': use {string.Join(", ", PrometheusAccess.All)}.");

        ConfigureLogs(builder.Logging, config.GetValue<bool>("PythOn:Logging:Json"));
        // Request logs without the query string (the WebSocket ticket travels there), instead of the hosting's own.
        builder.Services.AddHttpLogging(o =>
        {
            o.LoggingFields = HttpLoggingFields.RequestMethod | HttpLoggingFields.RequestPath | HttpLoggingFields.RequestProtocol
                | HttpLoggingFields.ResponseStatusCode | HttpLoggingFields.Duration;
            o.CombineLogs = true;
        });

        var otel = builder.Services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService("pyth-on-server", serviceVersion: typeof(TelemetrySetup).Assembly.GetName().Version?.ToString()))
            .WithTracing(t => t
                .AddSource(ServerTelemetry.Name)
                .AddAspNetCoreInstrumentation(o =>
                {
                    o.Filter = http => !http.Request.Path.StartsWithSegments(MetricsPath);
                    o.RecordException = false; // exception messages may quote input
                    o.EnrichWithHttpRequest = (activity, _) => activity.SetTag("url.query", null);
                })
                // Calls to agents: one client span per gRPC call (its HTTP request is not a span of its own).
                .AddGrpcClientInstrumentation(o => o.SuppressDownstreamInstrumentation = true)
                .AddHttpClientInstrumentation(o =>
                {
                    o.RecordException = false;
                    // Model providers' URLs: path only (a query string may carry a key).
                    o.EnrichWithHttpRequestMessage = (activity, request) => activity.SetTag("url.query", null)
                        .SetTag("url.full", request.RequestUri?.GetLeftPart(UriPartial.Path));
                }))
            .WithMetrics(m =>
            {
                m.AddMeter(ServerTelemetry.Name).AddAspNetCoreInstrumentation();
                if (prometheus != PrometheusAccess.Off) m.AddPrometheusExporter();
            });
        if (OtlpEndpoint(options) is { } endpoint)
            otel.UseOtlpExporter(Protocol(options.OtlpProtocol), endpoint);
        else if (!string.IsNullOrWhiteSpace(config["OTEL_EXPORTER_OTLP_ENDPOINT"]))
            otel.UseOtlpExporter(); // the standard OTEL_EXPORTER_OTLP_* settings
        return builder;
    }

    /// <summary>Request logs first; GET /metrics (unless off) with its access rule.</summary>
    public static WebApplication UsePythOnTelemetry(this WebApplication app)
    {
        app.UseHttpLogging();
        var access = (app.Configuration.GetSection(TelemetryOptions.Section).Get<TelemetryOptions>() ?? new TelemetryOptions())
            .Prometheus.Trim().ToLowerInvariant();
        if (access == PrometheusAccess.Off) return app;
        app.MapPrometheusScrapingEndpoint(MetricsPath, meterProvider: null, configureBranchedPipeline: branch =>
        {
            if (access == PrometheusAccess.Operator)
                branch.Use(async (http, next) =>
                {
                    if (Auth.OperatorKey.IsPresented(http.Request, app.Configuration["PythOn:OperatorKey"])) await next(http);
                    else await ErrorResponses.WriteAsync(http, Grpc.Core.StatusCode.Unauthenticated,
                        $"GET {MetricsPath} needs the header {Auth.OperatorKey.Header}: PythOn:OperatorKey (or PythOn:Telemetry:Prometheus=anonymous).");
                });
        }, optionsName: null).AllowAnonymous();
        return app;
    }

    /// <summary>Console logs carry the trace and span id of the request (a scope); JSON lines when asked.</summary>
    private static void ConfigureLogs(ILoggingBuilder logging, bool json)
    {
        logging.Configure(o => o.ActivityTrackingOptions = ActivityTrackingOptions.TraceId | ActivityTrackingOptions.SpanId);
        if (json)
            logging.AddJsonConsole(o =>
            {
                o.IncludeScopes = true;
                o.UseUtcTimestamp = true;
                o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ";
            });
        logging.AddOpenTelemetry(o =>
        {
            o.IncludeScopes = false; // request scopes add nothing the trace does not have
            o.IncludeFormattedMessage = true;
        });
    }

    private static Uri? OtlpEndpoint(TelemetryOptions options)
    {
        if (string.IsNullOrWhiteSpace(options.OtlpEndpoint)) return null;
        if (!Uri.TryCreate(options.OtlpEndpoint, UriKind.Absolute, out var uri) || (uri.Scheme != "http" && uri.Scheme != "https"))
            throw new PythOn.Hosting.InvalidSettingException($"{TelemetryOptions.Section}:OtlpEndpoint is '{options.OtlpEndpoint}': use an http:// or https:// address.");
        return uri;
    }

    private static OtlpExportProtocol Protocol(string value) => value.Trim().ToLowerInvariant() switch
    {
        "grpc" => OtlpExportProtocol.Grpc,
        "http/protobuf" or "http" => OtlpExportProtocol.HttpProtobuf,
        _ => throw new PythOn.Hosting.InvalidSettingException($"{TelemetryOptions.Section}:OtlpProtocol is '{value}': use grpc or http/protobuf."),
    };
}
