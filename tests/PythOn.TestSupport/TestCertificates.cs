using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace PythOn.TestSupport;

/// <summary>A certificate and its private key as PEM files (what Agent:Tls and PythOn:AgentTls read).</summary>
public sealed record PemFiles(string CertificatePath, string KeyPath)
{
    public X509Certificate2 Load() => X509Certificate2.CreateFromPemFile(CertificatePath, KeyPath);
}

/// <summary>
/// A throw-away certificate authority made in the test with System.Security.Cryptography (no external tooling): it
/// issues a server certificate for 127.0.0.1/localhost and client certificates, written as PEM into a directory.
/// </summary>
public sealed class TestCertificateAuthority
{
    private readonly ECDsa _key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    private readonly X509Certificate2 _certificate;
    private readonly string _dir;

    public TestCertificateAuthority(string dir, string name)
    {
        _dir = dir;
        Directory.CreateDirectory(dir);
        var request = new CertificateRequest($"CN={name}", _key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        _certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
        CertificatePath = Path.Combine(dir, $"{name}-ca.crt");
        File.WriteAllText(CertificatePath, _certificate.ExportCertificatePem());
    }

    /// <summary>The CA certificate (PEM), for Agent:Tls:ClientCaPath or PythOn:AgentTls:CaPath.</summary>
    public string CertificatePath { get; }

    public X509Certificate2 Certificate => _certificate;

    /// <summary>A server certificate for 127.0.0.1, ::1 and localhost.</summary>
    public PemFiles IssueServer(string name)
    {
        var san = new SubjectAlternativeNameBuilder();
        san.AddIpAddress(IPAddress.Loopback);
        san.AddIpAddress(IPAddress.IPv6Loopback);
        san.AddDnsName("localhost");
        return Issue(name, new Oid("1.3.6.1.5.5.7.3.1"), san.Build()); // serverAuth
    }

    /// <summary>A client certificate (clientAuth).</summary>
    public PemFiles IssueClient(string name) => Issue(name, new Oid("1.3.6.1.5.5.7.3.2"), null);

    private PemFiles Issue(string name, Oid usage, X509Extension? san)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([usage], false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(_certificate, true, false));
        if (san is not null)
            request.CertificateExtensions.Add(san);
        var serial = RandomNumberGenerator.GetBytes(16);
        serial[0] &= 0x7F;
        using var certificate = request.Create(_certificate.SubjectName, X509SignatureGenerator.CreateForECDsa(_key),
            DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1), serial);
        var files = new PemFiles(Path.Combine(_dir, $"{name}.crt"), Path.Combine(_dir, $"{name}.key"));
        File.WriteAllText(files.CertificatePath, certificate.ExportCertificatePem());
        File.WriteAllText(files.KeyPath, key.ExportPkcs8PrivateKeyPem());
        return files;
    }
}
