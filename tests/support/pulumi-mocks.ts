/** The shared mock harness of the tests: the castle's recording mock runtime. */
export * from "../../offline/mock-runtime";
