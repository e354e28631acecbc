/**
 * An emulator of Cafe24's OAuth endpoints and a piece of its Admin API: {@link
 * dev.tokenbroker.testkit.cafe24.Cafe24Emulator}.
 */
@NullMarked
package dev.tokenbroker.testkit.cafe24;

import org.jspecify.annotations.NullMarked;
