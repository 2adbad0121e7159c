package org.mkdt.io;

/** Element types the file formats carry, with their .npy descr and safetensors names. */
public enum ElementType {
    F32(4, "f4", "F32"),
    F64(8, "f8", "F64"),
    I64(8, "i8", "I64"),
    I32(4, "i4", "I32"),
    U8(1, "u1", "U8");

    private final int size;
    private final String npyCode;
    private final String safetensorsName;

    ElementType(int size, String npyCode, String safetensorsName) {
        this.size = size;
        this.npyCode = npyCode;
        this.safetensorsName = safetensorsName;
    }

    public int size() {
        return size;
    }

    /** The .npy descr when written by this project (little-endian; '|' for single bytes). */
    public String npyDescr() {
        return (size == 1 ? "|" : "<") + npyCode;
    }

    public String safetensorsName() {
        return safetensorsName;
    }

    /** The type for a .npy type code without its byte-order character, or null. */
    static ElementType fromNpyCode(String code) {
        for (ElementType t : values()) if (t.npyCode.equals(code)) return t;
        return null;
    }

    static ElementType fromSafetensorsName(String name) {
        for (ElementType t : values()) if (t.safetensorsName.equals(name)) return t;
        return null;
    }
}
