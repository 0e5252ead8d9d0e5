using System.Net;
using System.Text.Json;
using Grpc.Core;
using PythOn.Api.V1;
using PythOn.Api.Zk;
using PythOn.Server.Tests.Infrastructure;

namespace PythOn.Server.Tests.EndToEnd;

/// <summary>The shared v1 test vectors (tests/PythOn.Server.Tests/ZeroKnowledge/zk-vectors-v1.json).</summary>
public static class ZkVectors
{
    private static readonly JsonElement Root = JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "ZeroKnowledge", "zk-vectors-v1.json"))).RootElement.Clone();

    public static JsonElement Case(string name) => Root.GetProperty("cases").EnumerateArray().Single(c => c.GetProperty("name").GetString() == name);

    /// <summary>The case's encryptedPayload as JSON text, exactly as in the file.</summary>
    public static string PayloadJson(string name) => Case(name).GetProperty("encryptedPayload").GetRawText();

    public static ZKPayload Payload(string name) => Runs.Parse<ZKPayload>(PayloadJson(name));

    public static string Password(string name) => Case(name).GetProperty("masterPassword").GetString()!;
}
