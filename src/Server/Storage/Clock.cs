namespace PythOn.Server.Storage;

/// <summary>Stored times are Unix milliseconds (UTC), whatever the provider.</summary>
public static class Clock
{
    public static long NowMs() => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

    public static Google.Protobuf.WellKnownTypes.Timestamp ToTimestamp(long unixMs) =>
        Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(DateTimeOffset.FromUnixTimeMilliseconds(unixMs));
}
