/**
 * Test helpers published for users' own tests: a {@link dev.tokenbroker.testkit.FakeClock}, and
 * protocol-faithful emulators of the platforms' token endpoints that enforce each platform's rules
 * (rotation kills the old refresh token, codes are single-use, bad signatures are rejected), count
 * what they receive, and take injected faults.
 */
@NullMarked
package dev.tokenbroker.testkit;

import org.jspecify.annotations.NullMarked;
