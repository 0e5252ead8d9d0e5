using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace PythOn.Server.Tests.Infrastructure;

/// <summary>
/// REST/JSON calls with bodies written as raw JSON or anonymous objects (property names exactly as on the wire)
/// and answers read with JsonDocument, so tests assert the exact field names.
/// </summary>
public sealed class RestClient(HttpClient http)
{
    public HttpClient Http => http;

    public Task<RestResponse> GetAsync(string path, Credentials? auth = null) => SendAsync(HttpMethod.Get, path, null, auth);

    public Task<RestResponse> DeleteAsync(string path, Credentials? auth = null) => SendAsync(HttpMethod.Delete, path, null, auth);

    public Task<RestResponse> PostAsync(string path, object? body, Credentials? auth = null) =>
        SendAsync(HttpMethod.Post, path, body is null ? "{}" : Serialize(body), auth);

    public Task<RestResponse> PutAsync(string path, object? body, Credentials? auth = null) =>
        SendAsync(HttpMethod.Put, path, body is null ? "{}" : Serialize(body), auth);

    /// <summary>Sends <paramref name="json"/> verbatim (it may be malformed on purpose).</summary>
    public async Task<RestResponse> SendAsync(HttpMethod method, string path, string? json, Credentials? auth = null)
    {
        using var request = new HttpRequestMessage(method, path);
        if (json is not null) request.Content = new StringContent(json, Encoding.UTF8, "application/json");
        (auth ?? Credentials.None).Apply(request);
        using var response = await http.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        return new RestResponse(method, path, response.StatusCode, response.Headers, response.Content.Headers, body);
    }

    public static string Serialize(object body) => body as string ?? JsonSerializer.Serialize(body);
}

public sealed class RestResponse(HttpMethod method, string path, HttpStatusCode status, HttpResponseHeaders headers,
    HttpContentHeaders contentHeaders, string body)
{
    private JsonElement? _json;

    public HttpStatusCode Status { get; } = status;
    public HttpResponseHeaders Headers { get; } = headers;
    public HttpContentHeaders ContentHeaders { get; } = contentHeaders;
    public string Body { get; } = body;

    /// <summary>The body as JSON; fails the test with the raw body when it isn't JSON.</summary>
    public JsonElement Json
    {
        get
        {
            if (_json is { } parsed) return parsed;
            try
            {
                using var document = JsonDocument.Parse(Body);
                _json = document.RootElement.Clone();
                return _json.Value;
            }
            catch (JsonException e)
            {
                throw new Xunit.Sdk.XunitException($"{this}: body is not JSON ({e.Message}): {Body}");
            }
        }
    }

    /// <summary>Asserts the HTTP status, showing the body when it differs.</summary>
    public RestResponse Expect(HttpStatusCode expected)
    {
        Assert.True(Status == expected, $"{this}: expected {(int)expected} {expected}, got {(int)Status} {Status}: {Body}");
        return this;
    }

    /// <summary>
    /// Asserts an error answer: the HTTP status and a google.rpc.Status JSON body
    /// {"code": grpcCode, "message": "...", "details": [...]}.
    /// </summary>
    public JsonElement ExpectStatusBody(HttpStatusCode expected, int grpcCode, bool requireMessage = true)
    {
        Expect(expected);
        Assert.True(ContentHeaders.ContentType?.MediaType == "application/json",
            $"{this}: expected an application/json error body, got '{ContentHeaders.ContentType}': {Body}");
        var json = Json;
        Assert.Equal(JsonValueKind.Object, json.ValueKind);
        Assert.True(json.TryGetProperty("code", out var code) && code.ValueKind == JsonValueKind.Number,
            $"{this}: the error body has no numeric 'code': {Body}");
        Assert.Equal(grpcCode, code.GetInt32());
        Assert.True(json.TryGetProperty("message", out var message) && message.ValueKind == JsonValueKind.String
            && (!requireMessage || message.GetString()!.Length > 0), $"{this}: the error body has no 'message': {Body}");
        Assert.True(json.TryGetProperty("details", out var details) && details.ValueKind == JsonValueKind.Array,
            $"{this}: the error body has no 'details' array: {Body}");
        return json;
    }

    public override string ToString() => $"{method} {path}";
}

public static class JsonExtensions
{
    /// <summary>The names of an object's properties, in order.</summary>
    public static IReadOnlyList<string> PropertyNames(this JsonElement element) =>
        element.EnumerateObject().Select(p => p.Name).ToList();

    public static string Str(this JsonElement element, string property)
    {
        Assert.True(element.TryGetProperty(property, out var value), $"no property '{property}' in {element}");
        Assert.True(value.ValueKind == JsonValueKind.String, $"'{property}' is not a string in {element}");
        return value.GetString()!;
    }

    public static JsonElement Prop(this JsonElement element, string property)
    {
        Assert.True(element.TryGetProperty(property, out var value), $"no property '{property}' in {element}");
        return value;
    }

    /// <summary>The array at <paramref name="property"/>; proto3 JSON omits empty repeated fields, which reads as empty.</summary>
    public static IReadOnlyList<JsonElement> Items(this JsonElement element, string property) =>
        element.TryGetProperty(property, out var value) ? value.EnumerateArray().ToList() : [];
}
