// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {ERC721} from "@openzeppelin/contracts/token/ERC721/ERC721.sol";

/// @title DeviceRegistryMock
/// @notice Test stand-in for the device registry: an ERC-721 anyone can mint and burn, so that
/// balanceOf(owner) counts an owner's live devices. Never deploy outside tests.
contract DeviceRegistryMock is ERC721 {
    constructor() ERC721("Mock Hexmesh Device", "MOCKDEV") {}

    /// @notice Mints device `tokenId` to `to`.
    function mint(address to, uint256 tokenId) external {
        _mint(to, tokenId);
    }

    /// @notice Burns device `tokenId` (retirement).
    function burn(uint256 tokenId) external {
        _burn(tokenId);
    }
}
