// Numbers the Linux 9P2000.L client speaks on the wire: message types, errno values, open flags,
// file-type bits and the getattr/setattr masks. The server and the host-filesystem layer use
// these constants instead of the host's own macros, because the host may be wasi-libc, whose
// errno, O_* and DT_* values differ from Linux's.
#pragma once

#include <cstdint>

namespace c2w::p9 {

// Message types (T = request, R = T + 1). Only the 9P2000.L set and the base messages it keeps.
enum MsgType : uint8_t {
  kTlerror = 6,
  kRlerror = 7,
  kTstatfs = 8,
  kTlopen = 12,
  kTlcreate = 14,
  kTsymlink = 16,
  kTmknod = 18,
  kTrename = 20,
  kTreadlink = 22,
  kTgetattr = 24,
  kTsetattr = 26,
  kTxattrwalk = 30,
  kTxattrcreate = 32,
  kTreaddir = 40,
  kTfsync = 50,
  kTlock = 52,
  kTgetlock = 54,
  kTlink = 70,
  kTmkdir = 72,
  kTrenameat = 74,
  kTunlinkat = 76,
  kTversion = 100,
  kTauth = 102,
  kTattach = 104,
  kTflush = 108,
  kTwalk = 110,
  kTread = 116,
  kTwrite = 118,
  kTclunk = 120,
  kTremove = 122,
};

constexpr uint32_t kNoFid = 0xffffffffu;
constexpr uint16_t kNoTag = 0xffff;
constexpr uint32_t kMaxWalkNames = 16;  // P9_MAXWELEM: the client never sends more
constexpr uint32_t kNameMax = 255;
constexpr uint32_t kPathMax = 4095;  // longest share-relative path or symlink target we accept

// Linux errno values (asm-generic/errno-base.h and errno.h), sent in Rlerror.
constexpr int kEPERM = 1;
constexpr int kENOENT = 2;
constexpr int kEIO = 5;
constexpr int kENXIO = 6;
constexpr int kEBADF = 9;
constexpr int kEAGAIN = 11;
constexpr int kENOMEM = 12;
constexpr int kEACCES = 13;
constexpr int kEBUSY = 16;
constexpr int kEEXIST = 17;
constexpr int kEXDEV = 18;
constexpr int kENODEV = 19;
constexpr int kENOTDIR = 20;
constexpr int kEISDIR = 21;
constexpr int kEINVAL = 22;
constexpr int kENFILE = 23;
constexpr int kEMFILE = 24;
constexpr int kETXTBSY = 26;
constexpr int kEFBIG = 27;
constexpr int kENOSPC = 28;
constexpr int kESPIPE = 29;
constexpr int kEROFS = 30;
constexpr int kEMLINK = 31;
constexpr int kERANGE = 34;
constexpr int kENAMETOOLONG = 36;
constexpr int kENOLCK = 37;
constexpr int kENOSYS = 38;
constexpr int kENOTEMPTY = 39;
constexpr int kELOOP = 40;
constexpr int kENODATA = 61;
constexpr int kEOVERFLOW = 75;
constexpr int kEILSEQ = 84;
constexpr int kEMSGSIZE = 90;
constexpr int kEPROTO = 71;
constexpr int kEOPNOTSUPP = 95;
constexpr int kENOBUFS = 105;
constexpr int kESTALE = 116;
constexpr int kEDQUOT = 122;

// Linux open(2) flags as carried by Tlopen/Tlcreate (generic values, not x86-only ones).
enum LinuxOpenFlags : uint32_t {
  kO_ACCMODE = 03,
  kO_RDONLY = 00,
  kO_WRONLY = 01,
  kO_RDWR = 02,
  kO_CREAT = 0100,
  kO_EXCL = 0200,
  kO_TRUNC = 01000,
  kO_APPEND = 02000,
  kO_DSYNC = 010000,
  kO_DIRECTORY = 0200000,
  kO_SYNC = 04010000,
};

// File type bits of st_mode, identical on Linux and in 9P2000.L getattr.
enum LinuxMode : uint32_t {
  kS_IFMT = 0170000,
  kS_IFSOCK = 0140000,
  kS_IFLNK = 0120000,
  kS_IFREG = 0100000,
  kS_IFBLK = 0060000,
  kS_IFDIR = 0040000,
  kS_IFCHR = 0020000,
  kS_IFIFO = 0010000,
};

// d_type values in Rreaddir entries.
enum LinuxDirType : uint8_t {
  kDT_UNKNOWN = 0,
  kDT_FIFO = 1,
  kDT_CHR = 2,
  kDT_DIR = 4,
  kDT_BLK = 6,
  kDT_REG = 8,
  kDT_LNK = 10,
  kDT_SOCK = 12,
};

// Qid type bits.
enum QidType : uint8_t {
  kQTDIR = 0x80,
  kQTSYMLINK = 0x02,
  kQTFILE = 0x00,
};

constexpr uint64_t kGetattrBasic = 0x000007ffull;  // mode..blocks: everything we fill in

enum SetattrValid : uint32_t {
  kSetMode = 0x1,
  kSetUid = 0x2,
  kSetGid = 0x4,
  kSetSize = 0x8,
  kSetAtime = 0x10,
  kSetMtime = 0x20,
  kSetCtime = 0x40,
  kSetAtimeSet = 0x80,
  kSetMtimeSet = 0x100,
};

constexpr uint32_t kAtRemoveDir = 0x200;  // Tunlinkat flags
constexpr uint32_t kV9fsMagic = 0x01021997;

enum LockStatus : uint8_t { kLockSuccess = 0 };
enum LockType : uint8_t { kLockUnlocked = 2 };

// The qid type the client expects for a file of this mode / directory entry type.
inline uint8_t qid_type_of(uint32_t mode) {
  switch (mode & kS_IFMT) {
    case kS_IFDIR:
      return kQTDIR;
    case kS_IFLNK:
      return kQTSYMLINK;
    default:
      return kQTFILE;
  }
}

inline uint8_t qid_type_of_dtype(uint8_t t) {
  if (t == kDT_DIR) return kQTDIR;
  if (t == kDT_LNK) return kQTSYMLINK;
  return kQTFILE;
}

}  // namespace c2w::p9
