using System.Reflection;
using Google.Protobuf.Reflection;
using PythOn.Api.V1;

namespace PythOn.Api.Operations;

/// <summary>An RPC of the public API with its <c>(pythonapi.v1.operation)</c> option.</summary>
/// <param name="Method">The method's descriptor.</param>
/// <param name="Info">Its option: summary, tag, anonymous, created, idempotent, examples.</param>
public sealed record ApiOperation(MethodDescriptor Method, OperationInfo Info)
{
    /// <summary>"package.Service/Method", as gRPC names it, e.g. "pythonapi.v1.Auth/Register".</summary>
    public string FullName => ApiOperations.NameOf(Method);
}

/// <summary>
/// Every RPC of pythonapi.v1 with the rules its proto option states (protos/pythonapi/v1/operation.proto). This is the
/// one table of which RPCs are anonymous, answer 201 or are safe to retry: the server's authorization, its 201
/// responses, the OpenAPI document and the client's retry policy all read it here.
/// </summary>
public static class ApiOperations
{
    private static readonly Lazy<IReadOnlyDictionary<string, ApiOperation>> ByName = new(Load);

    /// <summary>Every operation, in file and declaration order.</summary>
    public static IReadOnlyList<ApiOperation> All => [.. ByName.Value.Values];

    /// <summary>The operation named "package.Service/Method", or null when there is none.</summary>
    public static ApiOperation? Find(string fullName) => ByName.Value.GetValueOrDefault(fullName);

    /// <summary>The operation of <paramref name="method"/>, or null when it is not a pythonapi.v1 RPC.</summary>
    public static ApiOperation? Find(MethodDescriptor method) => Find(NameOf(method));

    /// <summary>"package.Service/Method" of a descriptor.</summary>
    public static string NameOf(MethodDescriptor method) => $"{method.Service.FullName}/{method.Name}";

    // The generated reflection classes of this assembly's pythonapi.v1 files: a new .proto file is found without a list.
    private static IReadOnlyDictionary<string, ApiOperation> Load()
    {
        var files = typeof(OperationInfo).Assembly.GetTypes()
            .Where(t => t.Namespace == typeof(OperationInfo).Namespace && t.Name.EndsWith("Reflection", StringComparison.Ordinal))
            .Select(t => t.GetProperty("Descriptor", BindingFlags.Public | BindingFlags.Static)?.GetValue(null) as FileDescriptor)
            .OfType<FileDescriptor>()
            .Where(f => f.Package == "pythonapi.v1")
            .OrderBy(f => f.Name, StringComparer.Ordinal);

        var operations = new Dictionary<string, ApiOperation>(StringComparer.Ordinal);
        foreach (var method in files.SelectMany(f => f.Services).SelectMany(s => s.Methods))
        {
            var info = method.GetOptions()?.GetExtension(OperationExtensions.Operation)
                       ?? throw new InvalidOperationException($"{NameOf(method)} has no (pythonapi.v1.operation) option: every public RPC needs one.");
            operations.Add(NameOf(method), new ApiOperation(method, info));
        }
        return operations;
    }
}
