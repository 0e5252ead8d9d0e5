using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;

namespace PythOn.Sandbox.Agent.Hosting;

/// <summary>Kestrel endpoints: a unix socket by default, TCP when configured; HTTP/2 only (gRPC). TCP needs the
/// shared token, and TLS unless the address is loopback or cleartext is explicitly allowed.</summary>
public static class Listeners
{
    public const int MinTokenLength = 32;

    public static void Configure(KestrelServerOptions kestrel, AgentOptions options)
    {
        if (!string.IsNullOrWhiteSpace(options.SocketPath))
        {
            PrepareSocketPath(options.SocketPath);
            kestrel.ListenUnixSocket(options.SocketPath, o => o.Protocols = HttpProtocols.Http2);
        }
        if (!string.IsNullOrWhiteSpace(options.ListenTcp))
        {
            if (!IPEndPoint.TryParse(options.ListenTcp, out var endpoint) || endpoint.Port == 0)
                throw new PythOn.Hosting.InvalidSettingException($"Agent:ListenTcp '{options.ListenTcp}' is not an address:port such as 127.0.0.1:8090");
            if (string.IsNullOrEmpty(options.AuthToken))
                throw new PythOn.Hosting.InvalidSettingException(
                    "Agent:ListenTcp needs Agent:AuthToken: the link carries code, secrets and ZK master passwords, so every caller must authenticate " +
                    $"(a random value of at least {MinTokenLength} characters, e.g. `openssl rand -base64 33`; give the server the same as PythOn:AgentToken)");
            var tls = !string.IsNullOrWhiteSpace(options.Tls.CertificatePath);
            if (!tls && !IPAddress.IsLoopback(endpoint.Address) && !options.AllowCleartextTcp)
                throw new PythOn.Hosting.InvalidSettingException(
                    $"Agent:ListenTcp {options.ListenTcp} is not a loopback address: configure Agent:Tls (CertificatePath, KeyPath, optionally ClientCaPath) " +
                    "or, on a network you trust, set Agent:AllowCleartextTcp=true");
            kestrel.Listen(endpoint, o =>
            {
                o.Protocols = HttpProtocols.Http2;
                if (tls) o.UseHttps(Https(options.Tls));
            });
        }
        if (!string.IsNullOrEmpty(options.AuthToken) && options.AuthToken.Length < MinTokenLength)
            throw new PythOn.Hosting.InvalidSettingException($"Agent:AuthToken is shorter than {MinTokenLength} characters; use a long random value");
        if (string.IsNullOrWhiteSpace(options.SocketPath) && string.IsNullOrWhiteSpace(options.ListenTcp))
            throw new PythOn.Hosting.InvalidSettingException("Agent:SocketPath and Agent:ListenTcp are both empty: nothing to listen on");
    }

    private static HttpsConnectionAdapterOptions Https(AgentTlsOptions tls)
    {
        var https = new HttpsConnectionAdapterOptions
        {
            ServerCertificate = X509Certificate2.CreateFromPemFile(tls.CertificatePath, string.IsNullOrWhiteSpace(tls.KeyPath) ? null : tls.KeyPath),
        };
        if (!string.IsNullOrWhiteSpace(tls.ClientCaPath))
        {
            var ca = X509Certificate2.CreateFromPem(File.ReadAllText(tls.ClientCaPath));
            https.ClientCertificateMode = ClientCertificateMode.RequireCertificate;
            https.ClientCertificateValidation = (certificate, _, _) =>
            {
                using var chain = new X509Chain();
                chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
                chain.ChainPolicy.CustomTrustStore.Add(ca);
                chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
                return chain.Build(certificate);
            };
        }
        return https;
    }

    /// <summary>Creates the socket's directory and removes a stale socket file; refuses when a live agent answers on it.</summary>
    private static void PrepareSocketPath(string path)
    {
        var dir = Path.GetDirectoryName(Path.GetFullPath(path))!;
        Directory.CreateDirectory(dir);
        if (!File.Exists(path))
            return;
        using (var probe = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified))
        {
            try
            {
                probe.Connect(new UnixDomainSocketEndPoint(path));
                throw new PythOn.Hosting.InvalidSettingException($"another process is listening on {path}; stop it or set Agent:SocketPath");
            }
            catch (SocketException)
            {
                // Nobody listening: a stale file from a process that died.
            }
        }
        File.Delete(path);
    }

    /// <summary>Only the owner and group may talk to the agent: it runs arbitrary code.</summary>
    public static void RestrictSocket(string path)
    {
        if (!OperatingSystem.IsWindows() && File.Exists(path))
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.GroupWrite);
    }
}
