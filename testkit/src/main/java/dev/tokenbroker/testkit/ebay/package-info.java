/**
 * An emulator of eBay's OAuth endpoints, for the generic provider's eBay configuration: {@link
 * dev.tokenbroker.testkit.ebay.EbayEmulator}.
 */
@NullMarked
package dev.tokenbroker.testkit.ebay;

import org.jspecify.annotations.NullMarked;
