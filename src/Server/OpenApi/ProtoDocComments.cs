using System.Collections.Concurrent;
using System.Reflection;
using System.Xml.Linq;
using Google.Protobuf.Reflection;
using ServiceDescriptor = Google.Protobuf.Reflection.ServiceDescriptor;

namespace PythOn.Server.OpenApi;

/// <summary>
/// The comments written in the .proto files, looked up by descriptor.
/// </summary>
/// <remarks>
/// The C# descriptors compiled into the generated code carry no source info, so the comments cannot come
/// from them. protoc's C# generator (Grpc.Tools) copies every proto comment into the generated code as an XML
/// doc comment, and src/Api builds with <c>GenerateDocumentationFile</c>, so the comments of the contract
/// end up, verbatim, in <c>PythOn.Api.xml</c> next to <c>PythOn.Api.dll</c> (build and publish copy the
/// documentation file of a referenced project). This reads that file once per assembly. No second protoc
/// run, no hand-written .proto parser, and the text is exactly what protoc saw. When the file is missing
/// (a deployment that strips *.xml) the document is still complete, only without descriptions.
/// </remarks>
internal sealed class ProtoDocComments
{
    private readonly ConcurrentDictionary<Assembly, IReadOnlyDictionary<string, string>> _byAssembly = new();

    public string? For(MessageDescriptor message) =>
        message.ClrType is { } type ? Lookup(type.Assembly, "T:" + XmlName(type)) : null;

    public string? For(FieldDescriptor field) =>
        field.ContainingType.ClrType is { } type
            ? Lookup(type.Assembly, "P:" + XmlName(type) + "." + field.PropertyName)
            : null;

    public string? For(EnumDescriptor @enum) =>
        @enum.ClrType is { } type ? Lookup(type.Assembly, "T:" + XmlName(type)) : null;

    public string? For(EnumValueDescriptor value)
    {
        var type = value.EnumDescriptor.ClrType;
        if (type is null) return null;
        // The C# member name drops the enum-name prefix (OUTPUT_STREAM_STDOUT -> Stdout); the generated
        // [OriginalName] attribute links the two.
        var member = type.GetFields(BindingFlags.Public | BindingFlags.Static).FirstOrDefault(f =>
            f.GetCustomAttribute<OriginalNameAttribute>()?.Name == value.Name);
        return member is null ? null : Lookup(type.Assembly, "F:" + XmlName(type) + "." + member.Name);
    }

    public string? For(ServiceDescriptor service) =>
        ServiceClass(service) is { } c ? Lookup(c.Assembly, "T:" + c.FullName) : null;

    public string? For(MethodDescriptor method)
    {
        // Documented on the generated server base, e.g. M:PythOn.Api.V1.Auth.AuthBase.Register(PythOn.Api.V1.AuthRequest,...).
        return ServiceClass(method.Service) is { } c
            ? Lookup(c.Assembly, $"M:{c.FullName}.{method.Service.Name}Base.{method.Name}")
            : null;
    }

    /// <summary>The generated static class of a service: same C# namespace as the file's messages.</summary>
    private readonly record struct GeneratedClass(Assembly Assembly, string FullName);

    private static GeneratedClass? ServiceClass(ServiceDescriptor service)
    {
        var file = service.File;
        var sample = file.MessageTypes.FirstOrDefault(m => m.ClrType is not null)?.ClrType
            ?? service.Methods.Select(m => m.InputType.ClrType).FirstOrDefault(t => t is not null);
        if (sample is null) return null;
        var ns = file.GetOptions()?.CsharpNamespace;
        if (string.IsNullOrEmpty(ns)) ns = sample.Namespace;
        return new GeneratedClass(sample.Assembly, string.IsNullOrEmpty(ns) ? service.Name : ns + "." + service.Name);
    }

    private static string XmlName(Type type) => type.FullName!.Replace('+', '.');

    private string? Lookup(Assembly assembly, string id) =>
        _byAssembly.GetOrAdd(assembly, Load).TryGetValue(id, out var text) ? text : null;

    private static IReadOnlyDictionary<string, string> Load(Assembly assembly)
    {
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        var path = FindXmlFile(assembly);
        if (path is null) return map;
        XDocument xml;
        try
        {
            xml = XDocument.Load(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or System.Xml.XmlException)
        {
            return map;
        }

        foreach (var member in xml.Descendants("member"))
        {
            var name = (string?)member.Attribute("name");
            var summary = member.Element("summary");
            if (name is null || summary is null) continue;
            var text = Normalize(summary.Value);
            if (text.Length == 0) continue;
            // Methods are keyed without their parameter list: a gRPC method name is unique in its service.
            var paren = name.IndexOf('(');
            map[paren < 0 ? name : name[..paren]] = text;
        }
        return map;
    }

    private static string? FindXmlFile(Assembly assembly)
    {
        var fileName = assembly.GetName().Name + ".xml";
        var candidates = new[]
        {
            string.IsNullOrEmpty(assembly.Location) ? null : Path.ChangeExtension(assembly.Location, ".xml"),
            Path.Combine(AppContext.BaseDirectory, fileName),
        };
        return candidates.FirstOrDefault(p => p is not null && File.Exists(p));
    }

    /// <summary>Strips the indentation the XML writer adds, keeping the comment's line structure.</summary>
    private static string Normalize(string summary)
    {
        var lines = summary.Split('\n').Select(l => l.Trim()).ToList();
        while (lines.Count > 0 && lines[0].Length == 0) lines.RemoveAt(0);
        while (lines.Count > 0 && lines[^1].Length == 0) lines.RemoveAt(lines.Count - 1);
        return string.Join("\n", lines);
    }
}
