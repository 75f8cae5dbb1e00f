// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @title MegabenchToken
/// @notice Plain OpenZeppelin 5.x ERC20 used by megabench's synthetic workloads.
///         The whole supply is minted to `holder` at deployment; there is no other mint path.
contract MegabenchToken is ERC20 {
    constructor(string memory name_, string memory symbol_, uint256 supply, address holder) ERC20(name_, symbol_) {
        _mint(holder, supply);
    }
}
