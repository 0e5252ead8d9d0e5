using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Google.Protobuf;
using PythOn.Server.Tests.Telemetry.Otlp;

namespace PythOn.Server.Tests.Telemetry;

/// <summary>
/// A real OTLP/HTTP (protobuf) receiver on a loopback port: keeps every request body it is sent, answers 200 with an
/// empty export response. Traces are decoded (the subset in otlp_trace.proto); everything is kept raw for scanning.
/// </summary>
public sealed class OtlpReceiver : IDisposable
{
    private readonly HttpListener _listener = new();
    private readonly ConcurrentQueue<(string Path, byte[] Body)> _requests = new();
    private readonly Task _serving;

    public OtlpReceiver()
    {
        var port = LoopbackPort.Free();
        Endpoint = $"http://127.0.0.1:{port}";
        _listener.Prefixes.Add(Endpoint + "/");
        _listener.Start();
        _serving = Task.Run(ServeAsync);
    }

    /// <summary>The base address for OTLP/HTTP exporters (they add /v1/traces, /v1/metrics, /v1/logs).</summary>
    public string Endpoint { get; }

    public IReadOnlyList<(string Path, byte[] Body)> Requests => _requests.ToList();

    /// <summary>Every span received so far, with its service and instrumentation scope.</summary>
    public IReadOnlyList<ReceivedSpan> Spans =>
        Requests.Where(r => r.Path == "/v1/traces")
            .SelectMany(r => ExportTraceServiceRequest.Parser.ParseFrom(r.Body).ResourceSpans)
            .SelectMany(rs => rs.ScopeSpans.SelectMany(ss => ss.Spans.Select(s => new ReceivedSpan(
                rs.Resource?.Attributes.FirstOrDefault(a => a.Key == "service.name")?.Value?.StringValue ?? "", ss.Scope?.Name ?? "", s))))
            .ToList();

    /// <summary>Bodies received on one signal's path (/v1/traces, /v1/metrics, /v1/logs).</summary>
    public IReadOnlyList<byte[]> Bodies(string path) => Requests.Where(r => r.Path == path).Select(r => r.Body).ToList();

    private async Task ServeAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }
            using var body = new MemoryStream();
            await context.Request.InputStream.CopyToAsync(body);
            _requests.Enqueue((context.Request.Url!.AbsolutePath, body.ToArray()));
            context.Response.StatusCode = 200;
            context.Response.ContentType = "application/x-protobuf";
            context.Response.Close();
        }
    }


    public void Dispose()
    {
        _listener.Stop();
        _listener.Close();
        _serving.Wait(TimeSpan.FromSeconds(5));
    }
}
