export { type GetUrlsOutputArgs, type GetUrlsResult, getUrlsOutput } from "./getUrls";
export { Schematic, type SchematicArgs } from "./schematic";
