using System.Net;

namespace PythOn.Server.Tests.Infrastructure;

/// <summary>Reads the server's Prometheus endpoint (GET /metrics with the operator key).</summary>
public static class MetricsScrape
{
    public static async Task<string> ScrapeAsync(HttpClient http, string operatorKey)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/metrics");
        request.Headers.Add("x-operator-key", operatorKey);
        using var response = await http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{response.StatusCode}: {text}");
        return text;
    }

    /// <summary>The sum of a Prometheus series over the lines whose labels contain all of <paramref name="labels"/>.</summary>
    public static double Counted(string scrape, string metric, params string[] labels) =>
        scrape.Split('\n')
            .Where(l => l.StartsWith(metric + "{", StringComparison.Ordinal) && labels.All(l.Contains))
            .Sum(l => double.Parse(l[(l.LastIndexOf('}') + 1)..].Trim().Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture));
}
