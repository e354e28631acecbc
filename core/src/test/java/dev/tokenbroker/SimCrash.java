package dev.tokenbroker;

/**
 * Unwinds a simulated broker instance as a crash would: an {@link Error}, so that no {@code catch
 * (RuntimeException)} in the engine runs its clean-up (a lease release, a health write) on the way
 * out. Once thrown, every later store or provider call of that instance throws it again: a crashed
 * process does nothing more.
 */
final class SimCrash extends Error {
  private static final long serialVersionUID = 1L;

  SimCrash(String where) {
    super("simulated crash " + where, null, false, false);
  }
}
