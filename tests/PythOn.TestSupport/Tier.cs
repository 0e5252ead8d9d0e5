namespace PythOn.TestSupport;

/// <summary>
/// Test tiers. A class marked <c>[Trait(Tier.Name, Tier.Fast)]</c> needs neither Docker nor root (units, and
/// contract tests on the in-process server): `./test.sh --fast` runs only those, with Docker made unreachable, so a
/// fast-marked test that touches Docker fails there. An unmarked class is in the full tier only: forgetting the mark
/// costs the fast tier a test, never a false pass.
/// </summary>
public static class Tier
{
    public const string Name = "Tier";
    public const string Fast = "Fast";
}
