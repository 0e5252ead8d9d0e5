using System.Security.Cryptography;
using System.Text;

namespace PythOn.Server.Auth;

/// <summary>The operator key (PythOn:OperatorKey), sent as x-operator-key: monitoring without an account (Health's
/// details, GET /metrics). Compared in fixed time; unset, nobody presents it.</summary>
public static class OperatorKey
{
    public const string Header = "x-operator-key";

    public static bool IsPresented(HttpRequest request, string? configured)
    {
        if (string.IsNullOrEmpty(configured)) return false;
        var given = request.Headers[Header].ToString();
        return CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(given)), SHA256.HashData(Encoding.UTF8.GetBytes(configured)));
    }
}
