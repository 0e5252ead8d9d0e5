using PythOn.Server.Tests.Infrastructure;

namespace PythOn.Server.Tests.Telemetry;

/// <summary>A telemetry setting the server cannot use stops it before it listens, naming the setting.</summary>
public sealed class TelemetrySettingsTests
{
    [Theory]
    [InlineData("PythOn:Telemetry:Prometheus", "sometimes")]
    [InlineData("PythOn:Telemetry:OtlpEndpoint", "collector:4317")]
    [InlineData("PythOn:Telemetry:OtlpProtocol", "carrier-pigeon")]
    public async Task A_bad_telemetry_setting_stops_the_server_with_its_name(string setting, string value)
    {
        var settings = new Dictionary<string, string> { [setting] = value };
        if (setting == "PythOn:Telemetry:OtlpProtocol") settings["PythOn:Telemetry:OtlpEndpoint"] = "http://127.0.0.1:4317";

        var failure = await Assert.ThrowsAsync<InvalidOperationException>(() => ServerProcess.StartAsync(settings));

        Assert.Contains("exited with code", failure.Message);
        Assert.Contains($"{setting} is '{value}'", failure.Message);
    }
}
