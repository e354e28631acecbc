/**
 * Scenario runs of issue 8 against a real local token endpoint ({@code OAuth2Emulator}): refresh
 * amplification when many callers find an expired token at once, and sustained load with 1-second
 * tokens, for this library and the peers users would otherwise pick. Not part of the library.
 */
@NullMarked
package dev.tokenbroker.benchmarks.scenarios;

import org.jspecify.annotations.NullMarked;
