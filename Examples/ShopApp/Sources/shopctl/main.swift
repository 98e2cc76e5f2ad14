import RunnelCLI
import Shop
import ShopCLI

// The shop's command line: every Runnel command with the shop's catalog, plus `refund`.
await RunnelCommand.main(catalog: ShopCatalog.catalog, commands: [RefundCommand.self])
