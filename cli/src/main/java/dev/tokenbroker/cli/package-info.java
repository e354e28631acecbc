/**
 * The {@code tokenbroker} command: connect a marketplace account once, then get tokens, watch
 * health, refresh, revoke and validate from a shell, keep connections alive in a long-running
 * process, and see the three platforms' rules at work against embedded emulators ({@code demo}).
 *
 * <p>{@link dev.tokenbroker.cli.Main} is the only public type. Everything is non-null unless
 * annotated {@code @Nullable}.
 */
@NullMarked
package dev.tokenbroker.cli;

import org.jspecify.annotations.NullMarked;
