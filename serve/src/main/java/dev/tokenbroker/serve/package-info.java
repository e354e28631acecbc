/**
 * {@code tokenbroker serve}: a long-running local token service for scripts and services that are
 * not on the JVM. {@link dev.tokenbroker.serve.TokenService} runs a broker and answers on a Unix
 * domain socket and/or TCP (loopback, or TLS), configured by a {@link
 * dev.tokenbroker.serve.ServeConfig}. On TCP, {@code /status} is a status page for the people who
 * run it (sign-in with a client secret, no token ever shown).
 *
 * <p>Everything in this package is non-null unless annotated {@code @Nullable}.
 */
@NullMarked
package dev.tokenbroker.serve;

import org.jspecify.annotations.NullMarked;
