using PythOn.Server.Tests.Telemetry.Otlp;

namespace PythOn.Server.Tests.Telemetry;

/// <summary>A received span with the service (resource service.name) and instrumentation scope that sent it.</summary>
public sealed record ReceivedSpan(string Service, string Scope, Span Span)
{
    public string Name => Span.Name;
    public string TraceId => Convert.ToHexStringLower(Span.TraceId.Span);
    public string SpanId => Convert.ToHexStringLower(Span.SpanId.Span);
    public string ParentId => Convert.ToHexStringLower(Span.ParentSpanId.Span);

    public string? Attribute(string key) => Span.Attributes.FirstOrDefault(a => a.Key == key)?.Value switch
    {
        null => null,
        { ValueCase: AnyValue.ValueOneofCase.StringValue } v => v.StringValue,
        { ValueCase: AnyValue.ValueOneofCase.IntValue } v => v.IntValue.ToString(),
        { ValueCase: AnyValue.ValueOneofCase.BoolValue } v => v.BoolValue ? "true" : "false",
        var v => v.ToString(),
    };

    public override string ToString() => $"{Service}/{Scope}: {Name} {SpanId} <- {ParentId}";
}
